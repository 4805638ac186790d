"""Prediction folder writer and the MATLAB-rule reader (missing, malformed, strict mode)."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.eval.predictions import (
    detections_to_rows,
    list_prediction_files,
    read_prediction_file,
    read_predictions,
    write_predictions,
)
from facedet.types import Detections


def test_write_read_round_trip(tmp_path):
    rows = np.array([[1, 2, 3, 4, 0.2], [5.5, 6, 7, 8, 0.9], [9, 10, 11, 12, 0.2], [0, 0, 1, 1, 1e-7]])
    preds = {("0--Parade", "img_1"): rows}
    n = write_predictions(tmp_path, preds, keys=[("0--Parade", "img_1"), ("1--Handshaking", "img_2")])
    assert n == 2
    text = (tmp_path / "0--Parade" / "img_1.txt").read_text()
    assert text.splitlines()[:4] == ["img_1", "4", "5.5 6 7 8 0.9", "1 2 3 4 0.2"]
    assert (tmp_path / "1--Handshaking" / "img_2.txt").read_text() == "img_2\n0\n"
    got, report = read_predictions(tmp_path, [("0--Parade", "img_1"), ("1--Handshaking", "img_2")])
    assert report.missing == [] and report.invalid == []
    assert np.array_equal(got[("0--Parade", "img_1")], rows[[1, 0, 2, 3]])  # stable descending
    assert got[("1--Handshaking", "img_2")].shape == (0, 5)
    assert list_prediction_files(tmp_path) == [("0--Parade", "img_1"), ("1--Handshaking", "img_2")]


def test_detections_to_rows_uses_continuous_width():
    det = Detections(np.array([[10, 20, 30, 60]]), np.array([0.5]))
    assert detections_to_rows(det).tolist() == [[10, 20, 20, 40, 0.5]]


def test_matlab_rules(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("a\n2\n1 2 3 4 0.5 99\n5\t6,7 8 0.7\nextra row ignored\n")
    rows = read_prediction_file(f)
    assert rows.tolist() == [[5, 6, 7, 8, 0.7], [1, 2, 3, 4, 0.5]]  # columns 1-5, any separator
    f.write_text("a\n750.0\n")  # float count (S3FD writes this) with too few rows -> invalid
    assert read_prediction_file(f) is None
    f.write_text("a\n1\n1 2 3 4 0.5 0.1\n")
    assert read_prediction_file(f, score_col=-1).tolist() == [[1, 2, 3, 4, 0.1]]


@pytest.mark.parametrize(
    "text, line",
    [("a\n", 2), ("a\nx\n", 2), ("a\n2\n1 2 3 4 0.5\n", 4), ("a\n1\n1 2 3 4\n", 3), ("a\n1\n1 2 3 4 s\n", 3),
     ("a\n1.5\n1 2 3 4 5\n", 2), ("a\n-1\n", 2)],
)
def test_malformed_files(tmp_path, text, line):
    d = tmp_path / "ev"
    d.mkdir()
    (d / "a.txt").write_text(text)
    got, report = read_predictions(tmp_path, [("ev", "a"), ("ev", "missing")])
    assert got == {} and report.missing == ["ev/missing"] and len(report.invalid) == 1
    assert any("missing" in m for m in report.messages())
    with pytest.raises(ValueError, match=rf"a\.txt: line {line}:"):
        read_predictions(tmp_path, [("ev", "a")], strict=True)


def test_strict_rejects_rows_beyond_count(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("a\n1\n1 2 3 4 0.5\n1 2 3 4 0.4\n")
    assert read_prediction_file(f).shape == (1, 5)  # MATLAB ignores the extra row
    with pytest.raises(ValueError, match="line 4"):
        read_prediction_file(f, strict=True)
