"""Aligned crops: the Umeyama similarity by hand, the identity case, scaled templates, errors."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.align import ARCFACE_TEMPLATE, align_face, similarity_transform, template
from facedet.types import Detections, Face


def test_similarity_recovers_a_known_transform() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = np.random.default_rng(0).uniform(0, 100, (5, 2))
    dst = src @ (scale * rot).T + shift
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-9)


def test_a_face_already_on_the_template_crops_to_itself() -> None:
    image = np.random.default_rng(1).integers(0, 255, (112, 112, 3), dtype=np.uint8)
    face = Face((0, 0, 112, 112), 0.9, tuple(map(tuple, ARCFACE_TEMPLATE)))
    np.testing.assert_array_equal(face.crop(image), image)


def test_a_face_twice_as_large_crops_to_the_template_size() -> None:
    rng = np.random.default_rng(2)
    small = np.kron(rng.integers(0, 255, (56, 56, 3), dtype=np.uint8), np.ones((2, 2, 1), np.uint8))  # smooth-ish
    big = np.kron(small, np.ones((2, 2, 1), np.uint8))  # the same picture at 224 px
    dets = Detections(np.array([[0, 0, 224, 224]]), np.array([0.9]), (ARCFACE_TEMPLATE * 2)[None])
    crops = dets.crops(big)
    assert crops.shape == (1, 112, 112, 3) and crops.dtype == np.uint8
    assert np.abs(crops[0].astype(int) - small.astype(int))[8:-8, 8:-8].mean() < 8


def test_template_scaling_follows_insightface() -> None:
    np.testing.assert_allclose(template(224), ARCFACE_TEMPLATE * 2)
    np.testing.assert_allclose(template(128), ARCFACE_TEMPLATE + [8.0, 0.0])
    with pytest.raises(ValueError, match="crop size"):
        template(8)


def test_errors() -> None:
    image = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(ValueError, match="no landmarks"):
        Face((0, 0, 10, 10), 0.5).crop(image)
    with pytest.raises(ValueError, match="5 finite"):
        align_face(image, np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="uint8 image"):
        align_face(image.astype(np.float32), ARCFACE_TEMPLATE)
    assert Detections.empty(with_landmarks=True).crops(image).shape == (0, 112, 112, 3)
