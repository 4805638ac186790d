"""``facedet train`` end to end on a synthetic WIDER root: SCRFD-0.5GF, a few steps, eval, resume."""

from __future__ import annotations

import csv

import torch

from facedet.cli import main
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider
from facedet.engine.checkpoint import load_checkpoint

SYN = dict(image_size=(96, 96), face_sizes=(16.0, 48.0), max_faces=3, empty_fraction=0.0)


def test_train_cli_trains_evaluates_and_resumes(tmp_path, capsys) -> None:
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=8, **SYN), seed=0)
    write_synthetic_wider(tmp_path / "wider", "val", SyntheticConfig(num_images=3, **SYN), seed=1)
    out = tmp_path / "run"
    common = ["train", "scrfd_500m", "--data", str(tmp_path / "wider"), "--val", str(tmp_path / "wider"),
              "--out", str(out), "--no-progress"]
    overrides = ["data.input_size=64", "data.num_workers=0", "train.batch_size=3", "train.warmup_iters=2",
                 "eval.max_size=96"]
    assert main(common + overrides + ["train.epochs=1"]) == 0
    ck = load_checkpoint(out / "last.pt")
    assert (ck["epoch"], ck["step"], ck["model_name"]) == (1, 2, "scrfd_500m")
    assert ck["config"]["data"]["input_size"] == 64 and (out / "config.yaml").is_file()
    rows = list(csv.DictReader(open(out / "epochs.csv")))
    assert len(rows) == 1 and {"ap_easy", "ap_medium", "ap_hard", "loss_cls", "loss_bbox"} <= rows[0].keys()
    assert (out / "best.pt").is_file()  # the first evaluation is always a new best
    first = load_checkpoint(out / "last.pt")["model"]

    assert main(common + ["--resume", "train.epochs=2"]) == 0  # overrides after options, config.yaml reused
    ck = load_checkpoint(out / "last.pt")
    assert (ck["epoch"], ck["step"]) == (2, 4) and ck["config"]["data"]["input_size"] == 64
    assert any(not torch.equal(ck["model"][k], v) for k, v in first.items())  # the second epoch trained
    assert len(list(csv.DictReader(open(out / "epochs.csv")))) == 2
    capsys.readouterr()


def test_train_cli_errors(tmp_path, capsys, monkeypatch) -> None:
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=2, **SYN), seed=0)
    base = ["train", "scrfd_500m", "--data", str(tmp_path / "wider"), "--out", str(tmp_path / "run")]
    assert main(base + ["train.lrr=0.1"]) == 2
    assert "unknown key" in capsys.readouterr().err
    assert main(base + ["--resume"]) == 2
    assert "last.pt" in capsys.readouterr().err
    assert main(["train", "scrfd_500m", "--data", str(tmp_path / "missing")]) == 2
    capsys.readouterr()

    class Other(torch.nn.Module):
        family = "extd"

    monkeypatch.setattr("facedet.zoo.build_model", lambda name, **kw: Other())
    assert main(base) == 2
    assert "SCRFD recipe" in capsys.readouterr().err
