"""FaceDetector over the non-SCRFD families (EXTD, Group Sampling) and per-channel normalisation."""

import numpy as np
import pytest
import torch

from facedet import FaceDetector
from facedet.preprocess import normalize
from facedet.zoo import build_model
from tests.conftest import shared_path


def test_per_channel_normalisation_order():
    img = np.zeros((2, 2, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 10, 20, 30  # B G R
    blob = normalize(img, (1.0, 2.0, 3.0), (1.0, 2.0, 4.0), rgb=True)
    np.testing.assert_allclose(blob[0, :, 0, 0], [(30 - 1) / 1, (20 - 2) / 2, (10 - 3) / 4])


def test_extd_official_weights_find_faces_and_match_the_family_decoder():
    import cv2

    from tests.decode_helpers import decode

    weights = shared_path("weights", "extd", "EXTD_32.pth")
    img = cv2.imread(str(shared_path("data", "widerface", "WIDER_val", "images", "1--Handshaking",
                                     "1_Handshaking_Handshaking_1_236.jpg")))
    det = FaceDetector("extd_fpn_32", weights=weights, input_size=(640, 640), score_threshold=0.5)
    faces = det.detect(img)
    assert len(faces) >= 3 and faces.scores.min() > 0.5
    # the same network decoded by hand: boxes in canvas pixels divided by the letterbox scale
    canvas, scale = det.preprocess(img)
    x = torch.from_numpy(normalize(canvas, det.mean, det.std, det.rgb))
    boxes, scores = decode(det.model(x), det.model, score_thr=0.5, nms_thr=0.4, top_k=750)[0]
    np.testing.assert_allclose(faces.scores, scores, rtol=1e-5)
    h, w = img.shape[:2]
    expect = np.clip(boxes / scale, 0, [w, h, w, h])
    np.testing.assert_allclose(faces.boxes, expect, atol=1e-3)


def test_group_sampling_detector_runs_through_the_api():
    model = build_model("gs_fpn_finest_r18", widths=(8, 16, 32, 64), neck_channels=16, head_channels=16)
    det = FaceDetector(model, input_size=(128, 128), score_threshold=0.0, max_faces=20)
    faces = det.detect(np.full((100, 80, 3), 127, np.uint8))
    assert 0 < len(faces) <= 20 and faces.landmarks is None
    assert np.all(faces.boxes[:, 2] <= 80) and np.all(faces.boxes[:, 3] <= 100)


def _spread_head(model: torch.nn.Module, seed: int) -> None:
    """Random head weights large enough that face probabilities spread out (no score ties)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("conf.", "head.cls")):
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)


@pytest.mark.parametrize("name", ["extd_fpn_32", "gs_fpn_finest_dc_r18"])
def test_onnx_backend_of_softmax_families_matches_torch(name: str) -> None:
    """EXTD / Group Sampling on ONNX Runtime: raw outputs decoded in numpy give the torch path's faces."""
    kw = {"widths": (8, 16, 32, 64), "neck_channels": 16, "head_channels": 16} if name.startswith("gs") else {}
    torch.manual_seed(0)
    model = build_model(name, **kw).eval()
    _spread_head(model, 0)
    img = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    opts = {"input_size": None, "max_side": 128, "score_threshold": 0.5, "nms_threshold": 0.4, "max_faces": 50}
    ref = FaceDetector(model, **opts).detect(img)
    got = FaceDetector(model, backend="onnx", num_threads=1, **opts).detect(img)
    assert len(ref) > 0 and len(got) == len(ref)
    np.testing.assert_allclose(got.scores, ref.scores, atol=1e-4)
    np.testing.assert_allclose(got.boxes, ref.boxes, atol=1e-2)


def test_raw_onnx_file_decodes_from_its_metadata_alone(tmp_path):
    """An EXTD export carries its family, preset, anchors and coder: ``FaceDetector(path)`` needs no model."""
    from facedet.export.onnx import export_onnx

    torch.manual_seed(0)
    model = build_model("extd_fpn_32").eval()
    _spread_head(model, 1)
    path = export_onnx(model, tmp_path / "extd.onnx", input_size=(64, 64))
    img = np.random.default_rng(1).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    opts = {"input_size": None, "max_side": 128, "score_threshold": 0.5, "nms_threshold": 0.4}
    ref = FaceDetector(model, **opts).detect(img)
    got = FaceDetector(path, backend="onnx", num_threads=1, **opts).detect(img)
    assert len(ref) > 0 and len(got) == len(ref)
    np.testing.assert_allclose(got.scores, ref.scores, atol=1e-4)
    np.testing.assert_allclose(got.boxes, ref.boxes, atol=1e-2)
