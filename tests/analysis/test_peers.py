"""YuNet on ONNX Runtime decodes exactly as OpenCV's FaceDetectorYN (the published decoding)."""

from __future__ import annotations

import cv2
import numpy as np

from facedet.analysis.peers import YuNet, YuNetORT
from tests.conftest import shared_path


def test_yunet_on_onnx_runtime_equals_opencv() -> None:
    model = shared_path("weights", "peers", "yunet_n_dynamic.onnx")
    images = sorted(shared_path("data", "widerface", "WIDER_val", "images").glob("*/*.jpg"))[:8]
    ours, theirs = YuNetORT(model, score=0.3), YuNet(model, score=0.3)
    for path in images:
        img = cv2.imread(str(path))
        a, b = ours(img), theirs(img)
        assert a.shape == b.shape and len(a) > 0
        np.testing.assert_allclose(a, b, atol=1e-3)
