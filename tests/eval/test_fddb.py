"""FDDB: annotation readers, pixel IoU, max-IoU matching, per-image thresholds and the ROC merge."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facedet.data.fddb import ellipse_to_box, load_fddb_folds, read_ellipse_list
from facedet.eval.fddb import (
    DBL_MAX,
    _match,
    evaluate_fddb,
    image_results,
    merge_results,
    pairwise_iou,
    read_fddb_detections,
    read_image_sizes,
    s3fd_rect_to_ellipse,
)
from tests.conftest import shared_path

CIRCLE = np.array([[10.0, 10.0, np.pi / 2, 10.0, 10.0]])  # ra rb theta cx cy: radius-10 circle at (10, 10)


def _full_canvas_area(e: np.ndarray, size: tuple[int, int]) -> int:
    m = np.zeros((size[1], size[0]), np.uint8)
    cv2.ellipse(m, (int(round(e[3])), int(round(e[4]))), (int(e[0]), int(e[1])), (np.pi - e[2]) * 180 / np.pi,
                0, 360, 10, -1)
    return int(np.count_nonzero(m))


def test_ellipse_against_rectangles():
    size = (21, 21)
    area = _full_canvas_area(CIRCLE[0], size)
    assert 300 < area < 441
    rects = np.array([[0, 0, 20, 20, 1.0],  # the whole image, inclusive corners: 21 x 21 pixels
                      [-50, -50, 120, 120, 1.0],  # clipped to the same pixels
                      [100, 100, 5, 5, 1.0]])  # outside the image
    iou = pairwise_iou(CIRCLE, rects, size)
    assert iou[0, 0] == pytest.approx(area / 441) and iou[0, 1] == iou[0, 0] and iou[0, 2] == 0.0


def test_identical_ellipse_detection_is_perfect():
    dets = np.array([[10.0, 10.0, np.pi / 2, 10.0, 10.0, 0.9], [3.0, 3.0, 0.0, 60.0, 60.0, 0.3]])
    th, tpd, tpc, fp = image_results(CIRCLE, dets, (80, 80), fmt="ellipse")
    assert th.tolist() == [0.3, 0.9] and tpd.tolist() == [1, 1] and tpc.tolist() == [1.0, 1.0]
    assert fp.tolist() == [1, 0]  # the far detection is a FP only at the lower threshold


def test_no_detections_single_result_at_dbl_max():
    th, tpd, tpc, fp = image_results(CIRCLE, np.zeros((0, 5)), (40, 40))
    assert th.tolist() == [DBL_MAX] and tpd.tolist() == tpc.tolist() == fp.tolist() == [0.0]


def test_matching_maximises_total_iou_not_count():
    iou = np.array([[0.9, 0.45, 0.0], [0.6, 0.0, 0.0], [0.0, 0.0, 0.0]])  # last row/col all zero: dropped
    tpd, tpc = _match(iou)
    assert tpd == 1 and tpc == pytest.approx(1.05)  # 0.45 + 0.6 beats 0.9 + 0
    assert _match(np.array([[0.9, 0.6], [0.6, 0.0]])) == (2, pytest.approx(1.2))


def test_merge_across_images_by_hand():
    per = [
        (np.array([0.2, 0.6]), np.array([2.0, 1.0]), np.array([1.5, 0.8]), np.array([3.0, 1.0])),
        (np.array([0.4]), np.array([1.0]), np.array([0.7]), np.array([0.0])),
        (np.array([DBL_MAX]), np.zeros(1), np.zeros(1), np.zeros(1)),
    ]
    roc = merge_results(per, [2, 1, 3])
    assert roc.num_faces == 6 and roc.thresholds.tolist() == [0.2, 0.4, 0.6, DBL_MAX]
    assert roc.tp_disc.tolist() == [3, 2, 1, 0] and roc.fp.tolist() == [3, 1, 1, 0]
    assert roc.tp_cont == pytest.approx([2.2, 1.5, 0.8, 0.0])
    assert roc.disc_lines() == ["0.5 3 0.2", "0.333333 1 0.4", "0.166667 1 0.6", "0 0 1.79769e+308"]
    assert roc.cont_lines()[0] == "0.366667 3"
    assert roc.tpr_at(1) == pytest.approx(2 / 6) and roc.tpr_at(0) == 0.0 and roc.tpr_at(5) == 0.5


def _write_folds(tmp_path):
    (tmp_path / "FDDB-fold-01.txt").write_text("a/img_1\na/img_2\n")
    (tmp_path / "FDDB-fold-01-ellipseList.txt").write_text(
        "a/img_1\n1\n10.0 10.0 1.570796 10.0 10.0  1\na/img_2\n2\n8 6 -1.5 30 30  1\n5 4 1.2 60 20  1\n")
    return tmp_path


def test_end_to_end_and_roc_files(tmp_path):
    images = load_fddb_folds(_write_folds(tmp_path), [1])
    assert [im.name for im in images] == ["a/img_1", "a/img_2"] and images[1].ellipses.shape == (2, 5)
    box = ellipse_to_box(images[0].ellipses)[0]
    dets = {"a/img_1": np.array([[box[0], box[1], box[2] - box[0], box[3] - box[1], 0.8]])}
    res = evaluate_fddb(dets, images, {"a/img_1": (40, 40), "a/img_2": (80, 80)})
    assert res.roc.num_faces == 3 and res.tpr_disc_at == pytest.approx(1 / 3)
    assert any("no detection entry" in w for w in res.warnings)
    disc, cont = res.roc.write(tmp_path / "out_")
    assert disc.read_text().splitlines() == ["0.333333 0 0.8", "0 0 1.79769e+308"]
    assert len(cont.read_text().splitlines()) == 2
    with pytest.raises(ValueError, match="no image size"):
        evaluate_fddb(dets, images, {"a/img_1": (40, 40)})


def test_sizes_that_contradict_the_annotations_are_refused(tmp_path):
    images = load_fddb_folds(_write_folds(tmp_path), [1])
    centre = images[1].ellipses[0, 3:5]
    small = (int(centre[0]) - 5, 80)  # narrower than the first ellipse's centre
    with pytest.raises(ValueError, match=r"a/img_2: size .* contradicts its annotation \(ellipse 1"):
        evaluate_fddb({}, images, {"a/img_1": (40, 40), "a/img_2": small})
    with pytest.raises(ValueError, match="a/img_1: size 0x40 is not an image size"):
        evaluate_fddb({}, images, {"a/img_1": (0, 40), "a/img_2": (80, 80)})
    s = tmp_path / "s.json"
    s.write_text('{"a/img_1": [40, -3]}')
    with pytest.raises(ValueError, match="must be \\[W, H\\]"):
        read_image_sizes(s)
    s.write_text('{"a/img_1": [40, ')
    with pytest.raises(ValueError, match=r"s\.json:1: not valid JSON"):
        read_image_sizes(s)


def test_readers_report_file_and_line(tmp_path):
    bad = tmp_path / "e.txt"
    bad.write_text("a/img_1\n2\n10 10 1.5 10 10 1\n10 10 x 10 10 1\n")
    with pytest.raises(ValueError, match=r"e\.txt:4:"):
        read_ellipse_list(bad)
    bad.write_text("a/img_1\ntwo\n")
    with pytest.raises(ValueError, match=r"e\.txt:2:"):
        read_ellipse_list(bad)
    (tmp_path / "FDDB-fold-01.txt").write_text("a/img_9\n")
    (tmp_path / "FDDB-fold-01-ellipseList.txt").write_text("a/img_1\n0\n")
    with pytest.raises(ValueError, match="img_9"):
        load_fddb_folds(tmp_path, [1])
    d = tmp_path / "d.txt"
    d.write_text("a/img_1.jpg\n750.0\n")
    with pytest.raises(ValueError, match=r"d\.txt:3:"):
        read_fddb_detections(d)
    d.write_text("a/img_1\n1\n1 2 3 4 0.5\na/img_2\n0\n")
    got = read_fddb_detections(d)
    assert got["a/img_1"].tolist() == [[1, 2, 3, 4, 0.5]] and got["a/img_2"].shape == (0, 5)
    s = tmp_path / "s.txt"
    s.write_text("a/img_1 40 30\na/img_2.jpg 80 60\n")
    assert read_image_sizes(s) == {"a/img_1": (40, 30), "a/img_2": (80, 60)}
    s.write_text("a/img_1 40\n")
    with pytest.raises(ValueError, match=r"s\.txt:1:"):
        read_image_sizes(s)


def test_real_fold_annotations():
    images = load_fddb_folds(shared_path("data", "fddb", "FDDB-folds"))
    assert len(images) == 2845 and sum(len(im.ellipses) for im in images) == 5171
    assert images[0].name == "2002/08/11/big/img_591" and images[0].ellipses[0, 0] == pytest.approx(123.5833)
    assert sorted({im.fold for im in images}) == list(range(1, 11))


def test_s3fd_regressor_worked_example():
    e = s3fd_rect_to_ellipse(np.array([200.0, 100.0, 100.0, 130.0, 0.7]))  # spec §2.6
    assert e.shape == (1, 6) and e[0, 5] == 0.7
    assert e[0, :5] == pytest.approx([81.23, 54.33, 1.5512, 250.06, 153.89], abs=0.01)
