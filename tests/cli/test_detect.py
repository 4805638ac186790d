"""``facedet detect``: JSON lines, annotated images, official WIDER prediction layout."""

import json

import cv2
import numpy as np
import pytest

from facedet.cli import main
from facedet.eval.predictions import read_prediction_file


@pytest.fixture()
def images(tmp_path):
    rng = np.random.default_rng(1)
    d = tmp_path / "imgs" / "7--Cheering"
    d.mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(d / f"img_{i}.jpg"), rng.integers(0, 255, (100, 140, 3), dtype=np.uint8))
    (d / "broken.jpg").write_bytes(b"garbage")
    return d


def test_detect_cli_outputs(images, tmp_path, capsys):
    out, wider = tmp_path / "out", tmp_path / "wider"
    with pytest.warns(UserWarning, match="randomly initialised"):
        rc = main(["detect", str(images.parent), "--model", "scrfd_1g", "--input-size", "160", "160",
                   "--threshold", "0.005",
                   "--out", str(out), "--wider-out", str(wider)])
    assert rc == 0
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.strip().splitlines()]
    assert [x["path"].rsplit("/", 1)[-1] for x in lines] == ["img_0.jpg", "img_1.jpg"]
    assert "broken.jpg" in captured.err and "decodable" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["img_0.jpg", "img_1.jpg"]
    # a fresh model scores every anchor ~0.01 (prior bias): rows come back sorted, count matches JSON
    rows = read_prediction_file(wider / "7--Cheering" / "img_0.txt", strict=True)
    assert len(rows) == len(lines[0]["faces"])
    assert np.all(np.diff(rows[:, 4]) <= 0) and len(rows) > 0 and rows[:, 4].min() > 0.005


def test_detect_cli_missing_path(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "none.jpg")]) == 2
    assert "no such file" in capsys.readouterr().err
