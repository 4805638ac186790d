"""S3FD max-IoU matching with scale compensation, on hand-made anchors and faces."""

from __future__ import annotations

import torch

from facedet.assigners.s3fd import S3FDMatcher


def boxes(*rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_threshold_and_forced_best_anchor():
    anchors = boxes([0, 0, 10, 10], [0, 0, 20, 20], [100, 100, 110, 110], [50, 50, 60, 60])
    # face 0 overlaps anchor 0 with IoU 100/400 = 0.25 and anchor 1 with 1.0
    # face 1 overlaps anchor 3 only with IoU 25/175 (= 0.143): forced onto anchor 3
    gt = boxes([0, 0, 20, 20], [55, 55, 65, 65])
    res = S3FDMatcher(compensate=False)(anchors, gt)
    assert res.labels.tolist() == [0, 1, 0, 1]
    assert res.gt_index[1] == 0 and res.gt_index[3] == 1
    assert res.quality[3] == 2.0 and abs(res.quality[0] - 0.25) < 1e-6


def test_scale_compensation_counts_and_picks_highest_iou():
    # face A (0,0,20,20): best IoU 1.0 (>= 0.35 and >= 0.5) -> contributes 2; face B best 0.4 -> 1
    # N = (2 + 1) // 2 = 1: the single highest-IoU anchor in (0.1, 0.35) image-wide becomes positive
    anchors = boxes(
        [0, 0, 20, 20],  # A: IoU 1
        [0, 0, 10, 10],  # A: IoU 0.25  <- compensated (highest in (0.1, 0.35))
        [10, 10, 20, 20],  # A: IoU 0.25 (tie, later index: stays negative with a stable sort)
        [0, 0, 20, 10],  # A: IoU 0.5 -> positive by threshold
        [100, 100, 120, 125],  # B: IoU 100/500 = 0.2 (its best anchor)
        [300, 300, 301, 301],  # nothing
    )
    gt = boxes([0, 0, 20, 20], [100, 100, 110, 110])
    res = S3FDMatcher()(anchors, gt)
    # B's best anchor (index 4) has IoU 100/500 = 0.2 < 0.35: forced positive; counts nothing for N
    assert abs(float(res.quality[1]) - 0.25) < 1e-6
    n = ((torch.tensor([1.0, 0.2]) >= 0.35).sum() + (torch.tensor([1.0, 0.2]) >= 0.5).sum()) // 2
    assert n == 1
    assert res.labels.tolist() == [1, 1, 0, 1, 1, 0]
    plain = S3FDMatcher(compensate=False)(anchors, gt)
    assert plain.labels.tolist() == [1, 0, 0, 1, 1, 0]


def test_shared_best_anchor_goes_to_last_face_and_empty_gt():
    anchors = boxes([0, 0, 10, 10], [40, 40, 50, 50])
    gt = boxes([0, 0, 10, 12], [0, 0, 12, 10])  # both faces' best anchor is anchor 0
    res = S3FDMatcher()(anchors, gt)
    assert res.gt_index[0] == 1 and res.labels[0] == 1
    empty = S3FDMatcher()(anchors, torch.zeros(0, 4))
    assert empty.labels.tolist() == [0, 0] and empty.gt_index.tolist() == [-1, -1]
