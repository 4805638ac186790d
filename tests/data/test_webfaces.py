"""Caltech WebFaces reader: the point-to-box rule by hand, malformed lines, duplicate images merged."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.data import detect_format, load_dataset
from facedet.data.errors import AnnotationError
from facedet.data.webfaces import SQUARE, WIDER_SHAPE, parse_webfaces, points_to_boxes

# eyes at (40, 50) and (60, 50), nose (50, 60), mouth (50, 70)
POINTS = np.array([[40, 50, 60, 50, 50, 60, 50, 70]], np.float32)


def test_square_rule_by_hand() -> None:
    # inter-ocular 20 -> 44; eye-to-mouth 20 -> 52: side 52; centre x 50, centre y (50 + 50 + 70) / 3
    cy = 170 / 3
    np.testing.assert_allclose(points_to_boxes(POINTS, shape=SQUARE), [[24, cy - 26, 76, cy + 26]], rtol=1e-6)


def test_wider_shape_by_hand() -> None:
    w, h, shift = WIDER_SHAPE
    cy = 170 / 3 + shift * 52
    expected = [[50 - w * 26, cy - h * 26, 50 + w * 26, cy + h * 26]]
    np.testing.assert_allclose(points_to_boxes(POINTS), expected, rtol=1e-6)


def test_parse_errors_name_the_line() -> None:
    with pytest.raises(AnnotationError, match=r"gt.txt:2: expected a name and 8 numbers, got 3"):
        parse_webfaces("a.jpg 1 2 3 4 5 6 7 8\nb.jpg 1 2\n", "gt.txt")
    with pytest.raises(AnnotationError, match=r"gt.txt:1: not a number"):
        parse_webfaces("a.jpg 1 2 3 4 5 6 7 x\n", "gt.txt")
    with pytest.raises(AnnotationError, match=r"gt.txt:1: coordinate not finite"):
        parse_webfaces("a.jpg 1 2 3 4 5 6 7 nan\n", "gt.txt")


def test_folder_is_recognised_and_duplicates_merge(tmp_path) -> None:
    img = tmp_path / "images"
    img.mkdir()
    (img / "pic1.jpg").write_bytes(b"same bytes")
    (img / "pic2.jpg").write_bytes(b"same bytes")  # a byte copy under another name
    (img / "pic3.jpg").write_bytes(b"other")
    row = "40 50 60 50 50 60 50 70"
    far = "140 50 160 50 150 60 150 70"
    (tmp_path / "WebFaces_GroundThruth.txt").write_text(
        f"pic1.jpg {row}\npic2.jpg {row}\npic2.jpg {far}\npic3.jpg {row}\nmissing.jpg {row}\n")
    assert detect_format(tmp_path)[0] == "webfaces"
    recs = load_dataset(tmp_path)
    assert [r.name for r in recs] == ["pic1", "pic3"]
    assert len(recs[0].boxes) == 2  # pic2's second face joins its copy; the repeated one does not
    assert recs.listed == 4 and recs.notes["duplicate_images"] == 1 and recs.skipped == 1
