"""CSV run logs (header widening, resume append) and the optional TensorBoard logger."""

from __future__ import annotations

import csv
import importlib.util

from facedet.engine.logging import CSVLogger, TensorBoardLogger


def test_csv_header_grows_and_reopens(tmp_path) -> None:
    path = tmp_path / "epochs.csv"
    log = CSVLogger(path)
    log.log({"epoch": 1, "loss": 2.0})
    log.log({"epoch": 2, "loss": 1.5, "ap_hard": 0.1})  # evaluation columns appear later
    again = CSVLogger(path)  # a resumed run appends under the existing header
    again.log({"epoch": 3, "loss": 1.0})
    rows = list(csv.DictReader(open(path)))
    assert list(rows[0].keys()) == ["epoch", "loss", "ap_hard"]
    assert [(r["epoch"], r["loss"], r["ap_hard"]) for r in rows] == [("1", "2.0", ""), ("2", "1.5", "0.1"),
                                                                    ("3", "1.0", "")]


def test_tensorboard_logger_is_optional(tmp_path) -> None:
    tb = TensorBoardLogger(tmp_path / "tb")
    tb.log({"loss": 1.0, "name": "x"}, step=1)  # non-numbers are skipped
    tb.close()
    has_tb = importlib.util.find_spec("tensorboard") is not None
    assert (tb.writer is not None) == has_tb
