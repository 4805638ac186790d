"""FaceDetector's multi-scale path: one pass at a shrink maps back to original pixels; the family's own test
protocol runs over those passes (ASFD: DSFD's pyramid)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from facedet import FaceDetector
from facedet.families import family_of
from facedet.families.asfd import build
from facedet.tta import box_vote

TINY = dict(backbone="resnet", depth=18, widths=(8, 16, 32, 64), channels=16, cpm_channels=8, extra_channels=(16, 32))


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    torch.manual_seed(0)
    model = build("asfd_d0", **TINY).eval()
    model.preset = "asfd_d0"
    return FaceDetector(model, score_threshold=0.05, device="cpu")


def _image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((96, 128, 3)) * 255).astype(np.uint8)


def test_one_pass_at_full_scale_is_the_plain_detection(detector: FaceDetector) -> None:
    img = _image()
    rows = detector.detect_at(img, 1.0)
    plain = detector.detect(img)
    assert len(rows) == len(plain) > 0
    np.testing.assert_allclose(rows[:, :4], plain.boxes, atol=1e-4)
    np.testing.assert_allclose(rows[:, 4], plain.scores, atol=1e-6)


def test_a_shrunk_pass_maps_back_to_original_pixels(detector: FaceDetector) -> None:
    img = _image()
    small = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_LINEAR)  # 48 x 64
    direct = detector.detect_at(small, 1.0)
    rows = detector.detect_at(img, 0.5)
    np.testing.assert_allclose(rows[:, :4], np.minimum(direct[:, :4] / 0.5, [128, 96, 128, 96]), atol=1e-3)
    with pytest.raises(ValueError, match="shrink"):
        detector.detect_at(img, 0.0)


def test_multiscale_is_the_family_protocol_over_those_passes(detector: FaceDetector) -> None:
    img = _image()
    tta = family_of(detector.model).test_time()
    want = tta(detector.detect_at, img)
    got = detector.detect_multiscale(img)
    assert len(got) == len(want) <= 750
    order = np.argsort(-want[:, 4], kind="stable")
    np.testing.assert_allclose(got.boxes, want[order, :4], atol=1e-4)
    assert len(box_vote(tta.passes(detector.detect_at, img))) == len(want)
