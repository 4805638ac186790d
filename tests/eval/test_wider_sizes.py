"""Recall per face size (``facedet.eval.wider_sizes``): hand-computed bins on tiny ground truths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facedet.eval.wider_gt import GtImage, WiderGroundTruth
from facedet.eval.wider_sizes import format_size_table, recall_by_size


def _img(name: str, boxes: list, keep: list[int], event: str = "0--Parade") -> GtImage:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return GtImage(event, name, b, np.zeros(len(b), bool), {s: np.asarray(keep) for s in ("easy", "medium", "hard")})


def _rows(boxes: list, scores: list) -> np.ndarray:
    return np.concatenate([np.asarray(boxes, float).reshape(-1, 4), np.asarray(scores, float)[:, None]], 1)


SMALL, MID, BIG = [0, 0, 20, 20], [100, 0, 50, 50], [200, 0, 300, 300]  # sqrt(wh) 20, 50, 300
OFF = [600, 600, 10, 10]


def test_ceiling_recall_and_median_per_bin():
    gt = WiderGroundTruth([_img("a", [SMALL, MID, BIG], [1, 2, 3]), _img("b", [MID], [1])])
    preds = {
        # SMALL: two matches, the best (0.7) counts; MID: found at 0.3 only; BIG: missed (IoU < 0.5); one FP
        "a": _rows([SMALL, SMALL, MID, [200, 0, 100, 100], OFF], [0.4, 0.7, 0.3, 0.9, 0.95]),
        "b": _rows([MID], [0.8]),
    }
    bins = recall_by_size(preds, gt, "easy", edges=(0, 32, 64), score_thr=0.5)
    assert [(b.low, b.high, b.faces, b.found, b.found_at_thr) for b in bins] == [
        (0, 32, 1, 1, 1), (32, 64, 2, 2, 1), (64, math.inf, 1, 0, 0)]
    assert bins[0].median_score == pytest.approx(0.7)
    assert bins[1].median_score == pytest.approx((0.3 + 0.8) / 2)
    assert math.isnan(bins[2].median_score) and bins[2].ceiling == 0.0
    assert bins[1].ceiling == 1.0 and bins[1].recall == 0.5


def test_setting_keep_list_and_subset_select_faces():
    # face 2 is not kept: a detection on it is counted nowhere; image b is outside the subset
    gt = WiderGroundTruth([_img("a", [SMALL, MID], [1]), _img("b", [SMALL], [1])])
    preds = {"a": _rows([SMALL, MID], [0.6, 0.9]), "b": _rows([SMALL], [0.1])}
    bins = recall_by_size(preds, gt, "hard", edges=(0, 32), subset=[("0--Parade", "a")])
    assert [(b.faces, b.found, b.found_at_thr) for b in bins] == [(1, 1, 1), (0, 0, 0)]
    assert math.isnan(bins[1].recall)
    table = format_size_table(bins, "hard", 0.5)
    assert "0-32" in table and "32+" in table


def test_faces_below_the_first_edge_are_left_out_and_bad_edges_refused():
    gt = WiderGroundTruth([_img("a", [SMALL, MID], [1, 2])])
    bins = recall_by_size({}, gt, "easy", edges=(32,))
    assert [(b.faces, b.found) for b in bins] == [(1, 0)]
    for edges in ((), (32, 16), (0, 0), (0, float("inf"))):
        with pytest.raises(ValueError, match="increasing"):
            recall_by_size({}, gt, "easy", edges=edges)


def test_edge_face_falls_in_the_upper_bin_and_nan_scores_neither_hide_nor_score():
    EDGE = [300, 0, 32, 32]  # sqrt(wh) = 32: bin [32, 64)
    gt = WiderGroundTruth([_img("a", [SMALL, EDGE, MID], [1, 2, 3])])
    # SMALL matched at NaN and 0.6 (found, scored 0.6); EDGE matched only at NaN (found, unscored)
    preds = {"a": _rows([SMALL, SMALL, EDGE], [float("nan"), 0.6, float("nan")])}
    bins = recall_by_size(preds, gt, "all", edges=(0, 32), score_thr=0.5)
    assert [(b.faces, b.found, b.found_at_thr) for b in bins] == [(1, 1, 1), (2, 1, 0)]
    assert bins[0].median_score == pytest.approx(0.6) and math.isnan(bins[1].median_score)


def test_unknown_setting_and_bad_threshold_refused():
    gt = WiderGroundTruth([_img("a", [SMALL], [1])])
    with pytest.raises(ValueError, match="setting must be one of"):
        recall_by_size({}, gt, "extreme")
    with pytest.raises(ValueError, match="score_thr"):
        recall_by_size({}, gt, "easy", score_thr=float("nan"))
    with pytest.raises(ValueError, match="finite"):
        recall_by_size({}, gt, "easy", edges=(0, float("nan")))


def test_median_iou_is_the_best_iou_of_each_found_face_whatever_its_score():
    gt = WiderGroundTruth([_img("a", [MID, BIG], [1, 2]), _img("b", [MID], [1])])
    # a/MID: IoU 31/51 at score 0.95 and 41/51 at 0.9 (+1-pixel boxes 51 px wide): the best IoU is 41/51
    # b/MID: exact (IoU 1); BIG: missed, so its bin has no IoU
    preds = {"a": _rows([[100, 0, 50, 30], [100, 0, 50, 40]], [0.95, 0.9]), "b": _rows([MID], [0.2])}
    bins = recall_by_size(preds, gt, "easy", edges=(32, 64))
    assert bins[0].median_iou == pytest.approx((41 / 51 + 1.0) / 2)
    assert math.isnan(bins[1].median_iou) and bins[1].to_dict()["median_iou"] is None
    assert format_size_table(bins, "easy", 0.5).splitlines()[2].split()[-1] == f"{(41 / 51 + 1) / 2:.3f}"
