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
    assert rc == 1  # broken.jpg skipped: the run goes on and says so in its exit code
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.strip().splitlines()]
    assert [x["path"].rsplit("/", 1)[-1] for x in lines] == ["img_0.jpg", "img_1.jpg"]
    assert "broken.jpg" in captured.err and "decodable" in captured.err
    assert "2 of 3 files done, 1 skipped" in captured.err
    assert sorted(p.name for p in (out / "7--Cheering").iterdir()) == ["img_0.jpg", "img_1.jpg"]
    # a fresh model scores every anchor ~0.01 (prior bias): rows come back sorted, count matches JSON
    rows = read_prediction_file(wider / "7--Cheering" / "img_0.txt")  # inverted boxes are suspect, not malformed
    assert len(rows) == len(lines[0]["faces"])
    assert np.all(np.diff(rows[:, 4]) <= 0) and len(rows) > 0 and rows[:, 4].min() > 0.005


def test_detect_cli_missing_path(tmp_path, capsys):
    assert main(["detect", str(tmp_path / "none.jpg")]) == 3
    assert "no such file" in capsys.readouterr().err


def _write(path, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (64, 96, 3), dtype=np.uint8))


def test_outputs_never_overwrite_each_other_or_inputs(tmp_path, capsys):
    root = tmp_path / "in"
    for rel in ("a/x.jpg", "b/x.jpg", "a/x.png"):
        _write(root / rel)
    out = tmp_path / "out"
    base = ["detect", str(root), "--input-size", "96", "96"]
    with pytest.warns(UserWarning):
        assert main(base + ["--model", "scrfd_1g", "--out", str(out)]) == 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.*")) == ["a/x.jpg", "a/x.png", "b/x.jpg"]
    assert main(base + ["--wider-out", str(tmp_path / "w")]) == 2  # a/x.jpg and a/x.png share a/x.txt
    assert "would both write a/x.txt" in capsys.readouterr().err and not (tmp_path / "w").exists()
    assert main(base + ["--out", str(root)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    capsys.readouterr()


def test_json_threshold_is_separate_from_the_wider_one(tmp_path, capsys):
    _write(tmp_path / "in" / "0--Parade" / "p.jpg")
    with pytest.warns(UserWarning):
        assert main(["detect", str(tmp_path / "in"), "--model", "scrfd_1g", "--input-size", "native",
                     "--threshold", "0.03", "--wider-out", str(tmp_path / "w")]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    rows = read_prediction_file(tmp_path / "w" / "0--Parade" / "p.txt")
    assert all(f["score"] >= 0.03 for f in faces) and (rows[:, 4] >= 0.02).all() and len(rows) >= len(faces)


@pytest.mark.parametrize("args, msg", [
    (["--threshold", "nan"], "--threshold must be a finite number"),
    (["--nms", "2"], "nms_threshold must be in"),
    (["--max-faces", "-1"], "max_faces must be >= 1"),
    (["--input-size", "big"], "--input-size takes W H"),
    (["--device", "gpu"], "device must be auto, cpu, cuda"),
])
def test_bad_settings_are_one_line_errors(tmp_path, capsys, args, msg):
    _write(tmp_path / "p.jpg")
    assert main(["detect", str(tmp_path / "p.jpg"), *args]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1


def test_detect_writes_an_annotated_video(tmp_path, capsys):
    clip = tmp_path / "in" / "clip.avi"
    clip.parent.mkdir()
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 5, (96, 64))
    rng = np.random.default_rng(0)
    for _ in range(6):
        writer.write(rng.integers(0, 255, (64, 96, 3), dtype=np.uint8))
    writer.release()
    out = tmp_path / "out"
    assert main(["detect", str(clip.parent), "--input-size", "96", "96", "--every", "2", "--out", str(out)]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [x["frame"] for x in lines] == [0, 2, 4] and all(x["path"] == str(clip) for x in lines)
    cap = cv2.VideoCapture(str(out / "clip.avi"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 6  # every frame written, detections every second one
    cap.release()
    assert main(["detect", str(clip), "--max-frames", "2"]) == 0
    assert [json.loads(x)["frame"] for x in capsys.readouterr().out.strip().splitlines()] == [0, 1]
    assert main(["detect"]) == 2 and "--camera N" in capsys.readouterr().err


def test_detect_cli_multi_scale_runs_the_family_protocol(tmp_path, capsys):
    img = tmp_path / "a.jpg"
    cv2.imwrite(str(img), np.random.default_rng(2).integers(0, 255, (64, 96, 3), dtype=np.uint8))
    with pytest.warns(UserWarning, match="randomly initialised"):
        assert main(["detect", str(img), "--model", "asfd_d0", "--multi-scale", "--threshold", "0.0",
                     "--threads", "1"]) == 0
    faces = json.loads(capsys.readouterr().out.strip())["faces"]
    assert 0 < len(faces) <= 750  # DSFD's pyramid, voted and capped at 750
