"""ONNX Runtime files: facedet metadata round trips; a metadata-free file is decoded when a family
recognises it (insightface's SCRFD exports: 6 or 9 outputs named by numbers) and refused otherwise."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from facedet import FaceDetector
from facedet.export.onnx import export_onnx
from facedet.export.runtime import OrtModel
from facedet.models.detector import DetectorInfo
from tests.api.tiny_model import TinySCRFD
from tests.conftest import shared_path


def _strip(path, out, rename: bool):
    """An insightface-like copy: no metadata, outputs renamed to numbers."""
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    if rename:
        mapping = {o.name: str(400 + i) for i, o in enumerate(proto.graph.output)}
        for node in proto.graph.node:
            node.output[:] = [mapping.get(n, n) for n in node.output]
        for o in proto.graph.output:
            o.name = mapping[o.name]
    onnx.save(proto, str(out))
    return out


def test_metadata_round_trip(tmp_path) -> None:
    model = TinySCRFD()
    info = DetectorInfo.of(model)
    assert DetectorInfo.from_metadata(info.to_metadata()) == info
    assert DetectorInfo.from_metadata({}) is None
    with pytest.raises(ValueError, match="malformed"):
        DetectorInfo.from_metadata({"facedet.family": "scrfd"})
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(64, 64))
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["facedet.family"] == "scrfd" and "anchor_grid" in meta["facedet.anchors"]


def test_unnamed_scrfd_layout_is_recognised(tmp_path) -> None:
    model = TinySCRFD()
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(128, 128))
    bare = _strip(path, tmp_path / "bare.onnx", rename=True)
    ort = OrtModel(bare)
    assert ort.info.family == "scrfd" and ort.info.has_kps and ort.output_names[0] == "score_8"
    img = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    a = FaceDetector(model, score_threshold=0.3, input_size=(128, 128)).detect(img)
    b = FaceDetector(bare, backend="onnx", score_threshold=0.3, input_size=(128, 128)).detect(img)
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)


def test_unknown_layout_without_metadata_is_refused(tmp_path) -> None:
    from facedet.zoo import build_model

    path = export_onnx(build_model("extd_fpn_32"), tmp_path / "extd.onnx", input_size=(64, 64))
    bare = _strip(path, tmp_path / "bare.onnx", rename=False)
    with pytest.raises(ValueError, match="no family recognises its 12 outputs"):
        OrtModel(bare)


def test_official_insightface_file_runs_on_onnx_runtime() -> None:
    """insightface's own scrfd_500m.onnx (no metadata): ORT + our numpy decoding equal the imported torch model."""
    import cv2

    path = shared_path("weights", "scrfd", "scrfd_500m.onnx")
    img = cv2.imread(str(shared_path("data", "widerface", "WIDER_val", "images", "1--Handshaking",
                                     "1_Handshaking_Handshaking_1_236.jpg")))
    ort = FaceDetector(path, backend="onnx", score_threshold=0.3, num_threads=1)
    ours = FaceDetector("scrfd_500m", weights=path, score_threshold=0.3)
    a, b = ort.detect(img), ours.detect(img)
    assert ort.info.family == "scrfd" and len(a) == len(b) >= 5
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
    np.testing.assert_allclose(a.boxes, b.boxes, atol=0.05)
