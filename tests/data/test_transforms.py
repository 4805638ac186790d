"""SCRFD augmentations: crop geometry, fill, flip with landmark re-ordering, photometric distortion."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.data.transforms import (
    Compose,
    PhotoMetricDistortion,
    RandomFlip,
    RandomSquareCrop,
    Sample,
    WholeImage,
    normalize,
)


def _sample(w: int = 200, h: int = 100) -> Sample:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 1] = np.arange(w, dtype=np.uint8)[None, :]
    boxes = np.array([[10, 10, 30, 40], [150, 50, 190, 90], [90, 20, 110, 30]], np.float32)
    lms = np.stack([np.stack([b[[0, 1]], b[[2, 1]], (b[:2] + b[2:]) / 2, b[[0, 3]], b[[2, 3]]]) for b in boxes])
    return Sample(img, boxes, lms.astype(np.float32), np.array([True, True, False]), np.zeros((0, 4), np.float32))


def test_square_crop_scale_one_is_a_pure_resize_and_shift() -> None:
    s = _sample()
    out = RandomSquareCrop(size=50, crop_choice=[1.0])(s, np.random.default_rng(3))
    assert out.image.shape == (50, 50, 3)
    # side = min(w, h) = 100; top must be 0 (h == side); scale 0.5
    left = int(round(out.image[0, 0, 1] * 1.0))  # the green ramp encodes x, so pixel (0,0) reveals left
    assert 0 <= left < 100
    keep = ((s.boxes[:, 0] + s.boxes[:, 2]) / 2 > left) & ((s.boxes[:, 0] + s.boxes[:, 2]) / 2 < left + 100)
    want = np.clip(s.boxes[keep] - [left, 0, left, 0], 0, 100) * 0.5
    np.testing.assert_allclose(out.boxes, want, atol=1e-5)
    assert out.landmark_valid.tolist() == s.landmark_valid[keep].tolist()


@pytest.mark.parametrize("seed", range(6))
def test_square_crop_invariants(seed: int) -> None:
    s = _sample()
    out = RandomSquareCrop(size=64)(s, np.random.default_rng(seed))
    assert out.image.shape == (64, 64, 3) and out.image.dtype == np.uint8
    assert len(out.boxes) >= 1  # a crop is accepted only with a face centre inside
    assert (out.boxes >= 0).all() and (out.boxes <= 64).all()  # clipped to the crop
    assert (out.landmarks >= 0).all() and (out.landmarks <= 64).all()
    assert len(out.landmarks) == len(out.boxes) == len(out.landmark_valid)


def test_zoom_out_fills_with_128() -> None:
    s = _sample()
    out = RandomSquareCrop(size=100, crop_choice=[2.0], fill=128)(s, np.random.default_rng(0))
    # side 200 on a 200x100 image: left = 0, top in [-100, 0): at least 50 canvas rows are outside
    assert (out.image[:, :, 0] == 128).all(axis=1).sum() >= 49
    assert (out.image[:, :, 0] == 0).any()


def test_flip_mirrors_boxes_and_swaps_landmarks() -> None:
    s = _sample()
    out = RandomFlip(p=1.0)(s, np.random.default_rng(0))
    np.testing.assert_array_equal(out.image, s.image[:, ::-1])
    np.testing.assert_allclose(out.boxes[0], [170, 10, 190, 40])
    # right eye of the flipped face = mirrored left eye of the original (order [1, 0, 2, 4, 3])
    np.testing.assert_allclose(out.landmarks[0, 0], [200 - s.landmarks[0, 1, 0], s.landmarks[0, 1, 1]])
    np.testing.assert_allclose(out.landmarks[0, 3], [200 - s.landmarks[0, 4, 0], s.landmarks[0, 4, 1]])
    assert out.landmarks[0, 0, 0] < out.landmarks[0, 1, 0]  # still image-left to image-right
    same = RandomFlip(p=0.0)(s, np.random.default_rng(0))
    assert same is s


def test_photometric_is_seeded_and_unclipped() -> None:
    s = _sample()
    s.image[:] = 250
    t = PhotoMetricDistortion()
    a = t(s, np.random.default_rng(5)).image
    b = t(s, np.random.default_rng(5)).image
    assert a.dtype == np.float32 and np.array_equal(a, b)
    maxima = [t(s, np.random.default_rng(k)).image.max() for k in range(20)]
    assert max(maxima) > 255.5  # brightness / contrast push past 255 and nothing clips


def test_compose_and_normalize() -> None:
    s = _sample()
    out = Compose([RandomSquareCrop(32), RandomFlip(0.5), PhotoMetricDistortion()])(s, np.random.default_rng(1))
    x = normalize(out.image, 127.5, 128.0, to_rgb=True)
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], (out.image[..., 2] - 127.5) / 128.0, rtol=1e-6)


def test_whole_image_scales_the_long_side_and_pads_bottom_right() -> None:
    s = _sample(200, 100)
    a = WholeImage(size=100, fill=(7, 8, 9))(s, np.random.default_rng(0))
    b = WholeImage(size=100, fill=(7, 8, 9))(s, np.random.default_rng(1))
    assert a.image.shape == (100, 100, 3)
    np.testing.assert_array_equal(a.image, b.image)  # no randomness
    np.testing.assert_allclose(a.boxes, s.boxes * 0.5, atol=1e-5)  # every face kept, scale 100 / 200
    np.testing.assert_allclose(a.landmarks, s.landmarks * 0.5, atol=1e-5)
    assert a.image[60:, :].reshape(-1, 3).tolist() == [[7, 8, 9]] * (40 * 100)  # padding below the image
