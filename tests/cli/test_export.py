"""``facedet export --int8``: the float file, its INT8 copy beside it, and clear errors for bad calibration input."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from facedet.cli import main


def test_export_writes_the_int8_copy(tmp_path, capsys) -> None:
    import onnx

    from facedet import FaceDetector

    calib = tmp_path / "calib" / "sub"
    calib.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(3):
        cv2.imwrite(str(calib / f"c{i}.png"), rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    out = tmp_path / "m.onnx"
    code = main(["export", "scrfd_500m", "--out", str(out), "--size", "128", "128", "--int8", str(tmp_path / "calib"),
                 "--calib-side", "128"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and report["parity"] and report["calibration_images"] == 3
    q = tmp_path / "m.int8.onnx"
    assert report["int8"] == str(q) and q.is_file() and out.is_file()
    meta = {p.key: p.value for p in onnx.load(str(q)).metadata_props}
    assert meta["facedet.quantized"] == "int8-qdq-per-channel-float-stride-8"
    assert not list(tmp_path.glob(".*part*"))  # no half-written files left
    det = FaceDetector(str(q), score_threshold=0.0)
    assert len(det.detect(cv2.imread(str(calib / "c0.png")))) > 0


@pytest.mark.parametrize("make, code, msg", [
    (lambda d: None, 3, "not a folder of calibration images"),
    (lambda d: (d / "calib").mkdir(), 2, "no .jpg/.jpeg/.png/.bmp images"),
])
def test_export_int8_mistakes(tmp_path, capsys, make, code, msg) -> None:
    make(tmp_path)
    out = tmp_path / "m.onnx"
    assert main(["export", "scrfd_500m", "--out", str(out), "--int8", str(tmp_path / "calib")]) == code
    err = capsys.readouterr().err
    assert msg in err and err.startswith("facedet export: error: ")
    assert not out.exists()  # refused before anything is written
