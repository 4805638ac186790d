"""Pseudo-labels: thresholds split a teacher's detections into faces, ignore regions and nothing."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.data.pseudo import list_images, split_by_score

BOXES = np.array([[0, 0, 10, 10],    # 0.9: face
                  [0, 0, 10, 10],    # exactly 0.5: face (the threshold is inclusive)
                  [5, 5, 20, 20],    # 0.3: ignore
                  [5, 5, 20, 20],    # exactly 0.2: ignore
                  [5, 5, 20, 20],    # 0.1: dropped
                  [0, 0, 3, 30]],    # 0.95 but 3 px wide: dropped
                 np.float32)
SCORES = np.array([0.9, 0.5, 0.3, 0.2, 0.1, 0.95], np.float32)


def test_split_by_score_thresholds_are_inclusive_and_thin_boxes_drop() -> None:
    faces, ignore = split_by_score(BOXES, SCORES, face_thr=0.5, ignore_thr=0.2, min_side=4)
    np.testing.assert_array_equal(faces, BOXES[[0, 1]])
    np.testing.assert_array_equal(ignore, BOXES[[2, 3]])
    assert faces.dtype == ignore.dtype == np.float32


def test_split_by_score_equal_thresholds_give_no_ignore_and_empty_input_works() -> None:
    faces, ignore = split_by_score(BOXES, SCORES, face_thr=0.3, ignore_thr=0.3, min_side=0)
    assert len(faces) == 4 and len(ignore) == 0
    faces, ignore = split_by_score(np.zeros((0, 4)), np.zeros(0))
    assert faces.shape == ignore.shape == (0, 4)


@pytest.mark.parametrize(("face", "ign"), [(0.2, 0.5), (1.5, 0.2), (0.5, -0.1)])
def test_split_by_score_rejects_bad_thresholds(face: float, ign: float) -> None:
    with pytest.raises(ValueError, match="ignore_thr <= face_thr"):
        split_by_score(BOXES, SCORES, face_thr=face, ignore_thr=ign)


def test_split_by_score_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="6 boxes but 2 scores"):
        split_by_score(BOXES, SCORES[:2])


def test_list_images_recurses_sorts_and_names_an_empty_folder(tmp_path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/x.JPG", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == ["a.png", "b/x.JPG"]
    with pytest.raises(FileNotFoundError, match="no image files"):
        list_images(_empty(tmp_path))
    with pytest.raises(NotADirectoryError, match="not a folder"):
        list_images(tmp_path / "a.png")


def _empty(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_snap_boxes_takes_mutual_best_matches_only() -> None:
    from facedet.data.pseudo import snap_boxes

    labels = np.array([[0, 0, 10, 10],      # its best detection is d0 (IoU 81/100), and d0's best is it: snapped
                       [0, 0, 10, 9],       # best is d0 too (IoU 72/99) but d0 prefers label 0: kept
                       [50, 50, 60, 60],    # best is d2 at IoU 25/175 < 0.5: kept
                       [100, 100, 110, 110]], np.float32)  # no detection near: kept
    dets = np.array([[1, 1, 10, 10], [200, 200, 210, 210], [55, 55, 65, 65]], np.float32)
    out, snapped = snap_boxes(labels, dets, iou_thr=0.5)
    np.testing.assert_array_equal(snapped, [True, False, False, False])
    np.testing.assert_array_equal(out, np.concatenate([dets[:1], labels[1:]]))
    assert snap_boxes(labels, dets, iou_thr=0.1)[1].tolist() == [True, False, True, False]  # 25/175 = 0.14
    out, snapped = snap_boxes(labels, np.zeros((0, 4)))
    np.testing.assert_array_equal(out, labels)
    assert not snapped.any()


def test_box_offsets_against_the_best_iou_detection() -> None:
    from facedet.data.pseudo import box_offsets

    labels = np.array([[0, 0, 10, 20], [100, 100, 110, 110]], np.float32)
    # label 0's best is d1 (12 wide, 16 high, centre (7, 8) against the label's (5, 10)); label 1's is d2
    dets = np.array([[50, 50, 60, 60], [1, 0, 13, 16], [100, 100, 110, 110]], np.float32)
    o = box_offsets(labels, dets)
    np.testing.assert_allclose(o.w_ratio, [1.2, 1.0])
    np.testing.assert_allclose(o.h_ratio, [0.8, 1.0])
    np.testing.assert_allclose(o.dx, [2 / 10, 0.0])
    np.testing.assert_allclose(o.dy, [-2 / 20, 0.0])
    np.testing.assert_allclose(o.iou, [144 / (200 + 192 - 144), 1.0])
    with pytest.raises(ValueError, match="no detections"):
        box_offsets(labels, np.zeros((0, 4)))
