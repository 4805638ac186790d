"""Two-pass matcher (Group Sampling) on hand-made anchors and boxes."""

from __future__ import annotations

import math

import torch

from facedet.assigners.two_pass import TwoPassAssigner, ignore_mask

T = torch.tensor


def test_two_pass_hand_case():
    gt = T([[0, 0, 10, 10], [100, 100, 110, 110], [200, 200, 210, 210], [300, 300, 310, 310],
            [400, 400, 410, 410], [400, 400, 410, 414]], dtype=torch.float32)
    anchors = T([
        [0, 0, 10, 10],      # A0 IoU 1 with gt0 -> 1
        [0, 0, 10, 20],      # A1 IoU 0.5 -> ignore (gt0 already matched)
        [100, 100, 110, 115],  # A2 IoU 0.667 -> 1
        [200, 200, 210, 222],  # A3 IoU 0.4545 -> ignore, then pass 2 gives it to gt2 (best candidate)
        [200, 200, 210, 224],  # A4 IoU 0.4167 -> ignore
        [300, 300, 310, 330],  # A5 IoU 0.333 < 0.4 -> 0; gt3 stays unmatched
        [500, 500, 510, 510],  # A6 -> 0
        [400, 400, 410, 420],  # A7 IoU 0.5 gt4 / 0.7 gt5 -> 1 for gt5
        [400, 400, 410, 424],  # A8 IoU 0.417 gt4 / 0.583 gt5: best gt is gt5 -> not taken for gt4
    ], dtype=torch.float32)
    res = TwoPassAssigner(0.6, 0.4)(anchors, gt)
    assert res.labels.tolist() == [1, -1, 1, 1, -1, 0, 0, 1, -1]
    assert res.gt_index[res.pos].tolist() == [0, 1, 2, 5]
    assert math.isclose(float(res.quality[3]), 100 / 220, rel_tol=1e-6)
    one_pass = TwoPassAssigner(0.6, 0.4, second_pass=False)(anchors, gt)
    assert one_pass.labels.tolist() == [1, -1, 1, -1, -1, 0, 0, 1, -1]


def test_two_pass_tie_takes_lowest_index_and_fast_rcnn_thresholds():
    gt = T([[600, 600, 610, 610]], dtype=torch.float32)
    anchors = T([[600, 600, 610, 622], [600, 588, 610, 610], [0, 0, 5, 5]], dtype=torch.float32)  # both 100/220
    assert TwoPassAssigner(0.6, 0.4)(anchors, gt).labels.tolist() == [1, -1, 0]
    # Fast R-CNN thresholds: 0.4545 < 0.5 -> background, and no second-pass candidate
    assert TwoPassAssigner(0.6, 0.5)(anchors, gt).labels.tolist() == [0, 0, 0]


def test_two_pass_no_gt_and_ignore_regions():
    anchors = T([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 4, 4]], dtype=torch.float32)
    ignore = T([[0, 0, 12, 12]])
    res = TwoPassAssigner()(anchors, torch.zeros(0, 4), ignore)
    assert res.labels.tolist() == [-1, 0, -1] and res.gt_index.tolist() == [-1, -1, -1]
    assert ignore_mask(anchors, T([[5, 0, 10, 10]]), 0.5).tolist() == [True, False, False]  # IoF exactly 0.5
    res = TwoPassAssigner()(anchors, T([[0, 0, 10, 10]]), ignore)
    assert res.labels.tolist() == [1, 0, -1]  # a positive stays positive inside an ignore box
