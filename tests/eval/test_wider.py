"""WIDER FACE AP: hand-computed cases, MATLAB quirks, and a loop reference of ``evaluation.m``."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.eval.wider import REALMIN_SINGLE, evaluate_wider, score_range, voc_ap
from facedet.eval.wider_gt import GtImage, WiderGroundTruth


def _img(name: str, boxes: list, keep: dict[str, list[int]], invalid: list[bool] | None = None,
         event: str = "0--Parade") -> GtImage:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    inv = np.zeros(len(b), bool) if invalid is None else np.asarray(invalid, bool)
    full = {s: np.asarray(keep.get(s, keep.get("*", [])), dtype=np.int64) for s in ("easy", "medium", "hard")}
    return GtImage(event, name, b, inv, full)


def _rows(boxes: list, scores: list) -> np.ndarray:
    return np.concatenate([np.asarray(boxes, float).reshape(-1, 4), np.asarray(scores, float)[:, None]], 1)


A, B, C = [10, 10, 40, 40], [100, 100, 30, 30], [200, 50, 20, 25]
FP = [300, 300, 20, 20]


def test_perfect_detector_ap_one():
    gt = WiderGroundTruth([_img("a", [A, B], {"*": [1, 2]}), _img("b", [C], {"*": [1]})])
    preds = {("0--Parade", "a"): _rows([A, B], [0.9, 0.3]), "b": _rows([C], [0.6])}
    res = evaluate_wider(preds, gt)
    assert res.aps == {"easy": 1.0, "medium": 1.0, "hard": 1.0, "all": 1.0}
    assert res.settings["hard"].num_faces == 3


def test_hand_computed_pr_and_shuffle_invariance():
    # one TP at 1.0, one FP at 0.5, one TP at 0.0 -> P=1 @R=.5, P=.5 @R=.5, P=2/3 @R=1
    gt = WiderGroundTruth([_img("a", [A, B], {"*": [1, 2]})])
    rows = _rows([A, FP, B], [1.0, 0.5, 0.0])
    res = evaluate_wider({"a": rows}, gt)
    h = res.settings["hard"]
    assert h.ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3, abs=1e-12)
    assert (h.proposals[0], h.true_positives[0]) == (1, 1)  # t = 0.999
    assert (h.proposals[499], h.true_positives[499]) == (2, 1)  # t = 0.5: 0.5 >= 0.5
    assert (h.proposals[-1], h.true_positives[-1]) == (3, 2)  # t = 0.0
    for perm in ([2, 1, 0], [1, 2, 0], [0, 2, 1]):
        assert evaluate_wider({"a": rows[perm]}, gt).aps == res.aps


def test_all_equal_scores_give_ap_zero():
    gt = WiderGroundTruth([_img("a", [A, B], {"*": [1, 2]})])
    res = evaluate_wider({"a": _rows([A, B], [0.7, 0.7])}, gt)
    assert all(v == 0.0 for v in res.aps.values())
    assert np.isnan(res.settings["easy"].precision).all()


def test_detection_on_ignored_face_is_neither_tp_nor_fp():
    # face 2 (B) is kept in hard only; its detection outranks the one on A
    gt = WiderGroundTruth([_img("a", [A, B], {"easy": [1], "medium": [1], "hard": [1, 2]})])
    rows = _rows([B, B, A], [1.0, 0.9, 0.0])
    res = evaluate_wider({"a": rows}, gt)
    e, h = res.settings["easy"], res.settings["hard"]
    assert e.ap == 1.0 and e.num_faces == 1
    assert e.proposals[-1] == 1 and e.proposals[0] == 0  # both B detections ignored at every threshold
    # hard: B TP, duplicate on B is a FP (no fall-back), A TP at t=0
    assert (h.proposals[-1], h.true_positives[-1]) == (3, 2)
    assert h.ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3, abs=1e-12)


def test_argmax_on_ignored_face_wins_over_overlapping_kept_face():
    a2 = [10, 10, 40, 44]  # IoU(A, a2) >= 0.5; the detection equals a2, whose face is not kept in easy
    gt = WiderGroundTruth([_img("a", [A, a2], {"easy": [1], "*": [1, 2]})])
    res = evaluate_wider({"a": _rows([a2], [1.0])}, gt)
    assert res.settings["easy"].proposals[-1] == 0 and res.settings["easy"].true_positives[-1] == 0
    assert res.settings["easy"].ap == 0.0


def test_degenerate_kept_box_is_never_recalled():
    deg = [1026, 474, -2, 23]
    gt = WiderGroundTruth([_img("a", [A, deg], {"*": [1, 2]})])
    res = evaluate_wider({"a": _rows([A, deg], [1.0, 0.0])}, gt)
    h = res.settings["hard"]
    assert h.true_positives[-1] == 1 and h.proposals[-1] == 2  # the exact degenerate box is a FP
    assert h.ap == pytest.approx(0.5)


def test_duplicated_gt_pair_second_detection_is_fp():
    dup = [219, 454, 9, 15]
    gt = WiderGroundTruth([_img("a", [dup, dup], {"*": [1, 2]})])
    res = evaluate_wider({"a": _rows([dup, dup], [1.0, 0.0])}, gt)
    h = res.settings["hard"]
    assert (h.proposals[-1], h.true_positives[-1]) == (2, 1)
    assert h.recall.max() == 0.5 and h.ap == pytest.approx(0.5)


def test_subset_mode_counts_and_normalises_over_present_images(tmp_path):
    gt = WiderGroundTruth([_img("a", [A], {"*": [1]}), _img("b", [B, C], {"*": [1, 2]})])
    (tmp_path / "0--Parade").mkdir()
    (tmp_path / "0--Parade" / "a.jpg").write_bytes(b"")
    preds = {"a": _rows([A, FP], [1.0, 0.0]), "b": _rows([FP], [-1000.0])}
    sub = evaluate_wider(preds, gt, images_dir=tmp_path)
    assert sub.num_images == 1 and sub.settings["hard"].num_faces == 1
    assert sub.aps["hard"] == 1.0 and (sub.score_min, sub.score_max) == (0.0, 1.0)
    keyed = evaluate_wider(preds, gt, subset=[("0--Parade", "a")])
    assert keyed.aps == sub.aps and keyed.subset
    full = evaluate_wider(preds, gt)  # b's score -1000 squeezes a's FP to 0.999 -> P=.5 at every threshold
    assert full.settings["hard"].num_faces == 3
    assert full.aps["hard"] == pytest.approx(0.5 / 3)


def test_normalisation_start_values():
    assert score_range(np.array([2.0, 3.0])) == (2.0, 3.0)  # ports start at (max 0, min 1): (1, 3)
    assert score_range(np.array([-2.0, -1.0])) == (-2.0, REALMIN_SINGLE)
    gt = WiderGroundTruth([_img("a", [A, B], {"*": [1, 2]})])
    rows = _rows([A, FP, B], [1.0, 0.5, 0.0])
    base = evaluate_wider({"a": rows}, gt).aps
    shifted = rows.copy()
    shifted[:, 4] += 7.0  # all scores > 1: still mapped onto [0, 1]
    assert evaluate_wider({"a": shifted}, gt).aps == base


def _random_case(seed: int, n_img: int = 12):
    rng = np.random.default_rng(seed)
    images, preds = [], {}
    for i in range(n_img):
        k = int(rng.integers(1, 9))
        xy = rng.uniform(0, 400, (k, 2))
        wh = rng.uniform(4, 60, (k, 2))
        boxes = np.round(np.concatenate([xy, wh], 1))
        if i == 3:
            boxes[1] = boxes[0]  # duplicated gt pair
        hard = np.flatnonzero(rng.random(k) < 0.8) + 1
        med = hard[rng.random(len(hard)) < 0.6]
        easy = med[rng.random(len(med)) < 0.6]
        inv = rng.random(k) < 0.1
        images.append(GtImage("1--Handshaking", f"im{i}", boxes, inv, {"easy": easy, "medium": med, "hard": hard}))
        pick = boxes[rng.random(k) < 0.85]
        jit = pick + rng.normal(0, 2.5, pick.shape)
        fps = np.concatenate([rng.uniform(0, 400, (3, 2)), rng.uniform(4, 60, (3, 2))], 1)
        det = np.concatenate([jit, fps, jit[:1] + 1.0])
        sc = np.round(rng.random(len(det)), 2)  # ties on purpose
        if i == 5:
            sc[0] = np.nan
        preds[f"im{i}"] = np.concatenate([det, sc[:, None]], 1)
    return WiderGroundTruth(images), preds


def _matlab_loop(gt: WiderGroundTruth, preds: dict, setting: str) -> float:
    """Statement-by-statement transcription of evaluation.m (loops; used only as a reference)."""
    lists = {}
    for im in gt.images:
        r = preds.get(im.name)
        if r is not None and len(r):
            s = r[:, 4]
            nan = np.isnan(s)
            lists[im.name] = r[np.lexsort((np.where(nan, 0, -s), ~nan))].copy()
    allsc = np.concatenate([r[:, 4] for r in lists.values()])
    mx, mn = REALMIN_SINGLE, float(np.finfo(np.float32).max)
    mx, mn = max(mx, np.nanmax(allsc)), min(mn, np.nanmin(allsc))
    curve = np.zeros((1000, 2))
    count = 0
    for i, im in enumerate(gt.images):
        keep = gt.keep_mask(i, setting)
        count += keep.sum()
        if im.name not in lists:
            continue
        p = lists[im.name].copy()
        p[:, 4] = (p[:, 4] - mn) / (mx - mn)
        g = im.boxes_xywh.copy()
        g[:, 2:] += g[:, :2]
        p[:, 2:4] += p[:, :2]
        recall = np.zeros(len(g))
        prop = np.ones(len(p))
        pred_recall = np.zeros(len(p))
        for h in range(len(p)):
            iw = np.minimum(g[:, 2], p[h, 2]) - np.maximum(g[:, 0], p[h, 0]) + 1
            ih = np.minimum(g[:, 3], p[h, 3]) - np.maximum(g[:, 1], p[h, 1]) + 1
            inter = iw * ih
            ua = (g[:, 2] - g[:, 0] + 1) * (g[:, 3] - g[:, 1] + 1) + (p[h, 2] - p[h, 0] + 1) * (p[h, 3] - p[h, 1] + 1)
            o = inter / (ua - inter)
            o[(iw <= 0) | (ih <= 0)] = 0
            idx = int(np.argmax(o))
            if o[idx] >= 0.5:
                if not keep[idx]:
                    recall[idx] = -1
                    prop[h] = -1
                elif recall[idx] == 0:
                    recall[idx] = 1
            pred_recall[h] = (recall == 1).sum()
        for t in range(1, 1001):
            th = 1 - t / 1000
            ok = np.flatnonzero(p[:, 4] >= th)
            if ok.size:
                r_ = ok[-1]
                curve[t - 1, 0] += (prop[: r_ + 1] == 1).sum()
                curve[t - 1, 1] += pred_recall[r_]
    with np.errstate(invalid="ignore"):
        return voc_ap(curve[:, 1] / count, curve[:, 1] / curve[:, 0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_equals_matlab_loop(seed):
    gt, preds = _random_case(seed)
    res = evaluate_wider(preds, gt)
    for s in ("easy", "medium", "hard", "all"):
        assert res.aps[s] == pytest.approx(_matlab_loop(gt, preds, s), abs=1e-12), s


def test_affine_score_change_leaves_ap_unchanged():
    gt, preds = _random_case(7, n_img=20)
    for v in preds.values():
        v[:, 4] = np.where(np.isnan(v[:, 4]), 0.3, v[:, 4]) + np.linspace(0, 1e-3, len(v))
    base = evaluate_wider(preds, gt).aps
    moved = {k: np.concatenate([v[:, :4], 3 + 5 * v[:, 4:5]], 1) for k, v in preds.items()}
    assert evaluate_wider(moved, gt).aps == pytest.approx(base, abs=1e-12)
    squared = {k: np.concatenate([v[:, :4], v[:, 4:5] ** 4], 1) for k, v in preds.items()}
    assert evaluate_wider(squared, gt).aps != base  # not rank-invariant (spec §0.3)


def test_single_precision_mode_differs_only_at_bin_edges():
    # 0.49999999 normalises to itself in double (< t=0.5) but to float32 0.5 (>= 0.5) in MATLAB's single arithmetic
    gt = WiderGroundTruth([_img("a", [A, B], {"*": [1, 2]})])
    rows = _rows([A, B, FP], [1.0, 0.49999999, 0.0])
    d = evaluate_wider({"a": rows}, gt).settings["hard"]
    s = evaluate_wider({"a": rows}, gt, score_precision="single").settings["hard"]
    assert (d.true_positives[499], s.true_positives[499]) == (1, 2)  # t = 0.5
    assert d.true_positives[500] == s.true_positives[500] == 2  # t = 0.499


def test_single_precision_mode_close_to_double():
    gt, preds = _random_case(3)
    d = evaluate_wider(preds, gt).aps
    s = evaluate_wider(preds, gt, score_precision="single").aps
    assert s == pytest.approx(d, abs=1e-3)
    with pytest.raises(ValueError):
        evaluate_wider(preds, gt, score_precision="half")
