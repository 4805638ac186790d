"""ThresholdMatcher on quality matrices written out by hand (detectron2's ``test_matcher.py`` style)."""

from __future__ import annotations

import pytest
import torch

from facedet.assigners import Assignment, ThresholdMatcher, covered

# 3 faces x 6 anchors; columns: the best face of anchor j and its quality
Q = torch.tensor([
    #  a0    a1    a2    a3    a4    a5
    [0.10, 0.80, 0.45, 0.00, 0.20, 0.30],  # face 0: best anchor a1 (0.80)
    [0.05, 0.60, 0.50, 0.35, 0.00, 0.30],  # face 1: best anchor a1 too (0.60 < 0.80), then a2 (0.50)
    [0.00, 0.00, 0.10, 0.00, 0.25, 0.29],  # face 2: best anchor a5 (0.29), every IoU low
])
# per anchor: best quality 0.10 0.80 0.50 0.35 0.25 0.30, best face 0 0 1 1 2 0


def test_two_thresholds_three_labels() -> None:
    """SRN / AInnoFace step 1: below 0.3 background, [0.3, 0.7) ignored, >= 0.7 face."""
    res = ThresholdMatcher([0.3, 0.7], [0, -1, 1]).match(Q)
    assert res.labels.tolist() == [0, 1, -1, -1, 0, -1]  # 0.30 sits on the threshold: ignored
    assert res.gt_index.tolist() == [0, 0, 1, 1, 2, 0]
    assert torch.allclose(res.quality, torch.tensor([0.10, 0.80, 0.50, 0.35, 0.25, 0.30]))


def test_one_threshold_with_forced_best_anchors() -> None:
    """DSFD / ASFD: IoU >= 0.4 is a face, and every face gets its best anchor (quality 2)."""
    res = ThresholdMatcher([0.4], [0, 1], force_best=True).match(Q)
    # a1 is the best anchor of faces 0 and 1: the LAST face wins (SSD's loop); a5 is forced to face 2
    assert res.labels.tolist() == [0, 1, 1, 0, 0, 1]
    assert res.gt_index.tolist() == [0, 1, 1, 1, 2, 2]
    assert res.quality.tolist() == pytest.approx([0.10, 2.0, 0.50, 0.35, 0.25, 2.0])


def test_labels_at_the_boundaries_and_no_faces() -> None:
    m = ThresholdMatcher([0.4, 0.5], [0, -1, 1])
    q = torch.tensor([[0.3999, 0.4, 0.4999, 0.5, 1.0]])
    assert m.match(q).labels.tolist() == [0, -1, -1, 1, 1]  # intervals are [low, high)
    empty = m(torch.tensor([[0.0, 0.0, 4.0, 4.0]]), torch.zeros(0, 4))
    assert empty.labels.tolist() == [0] and empty.gt_index.tolist() == [-1] and empty.quality.tolist() == [0.0]


def test_anchors_and_boxes_go_through_iou() -> None:
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [5.0, 0.0, 15.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    res = ThresholdMatcher([0.3], [0, 1])(anchors, gt)
    # IoU 1, 50/150 = 0.333, 0
    assert res.labels.tolist() == [1, 1, 0]
    assert res.quality.tolist() == pytest.approx([1.0, 1 / 3, 0.0])


def test_bad_settings_raise() -> None:
    with pytest.raises(ValueError, match="increase"):
        ThresholdMatcher([0.5, 0.4], [0, -1, 1])
    with pytest.raises(ValueError, match="labels"):
        ThresholdMatcher([0.5], [0, -1, 1])


def test_ignore_step_applies_to_any_assignment() -> None:
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 4.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    a = Assignment(torch.tensor([1, 0, 0]), torch.tensor([0, 0, -1]), torch.tensor([1.0, 0.4, 0.0]))
    region = torch.tensor([[0.0, 0.0, 5.0, 10.0]])  # covers 1/2 of a0, all of a1, nothing of a2
    assert covered(anchors, region, 0.5).tolist() == [False, True, False]
    assert covered(anchors, region, 0.5, inclusive=True).tolist() == [True, True, False]
    assert covered(anchors, None, 0.5).tolist() == [False] * 3 and covered(anchors, region, -1).sum() == 0
    out = a.with_ignored(covered(anchors, region, 0.5, inclusive=True))
    assert out.labels.tolist() == [1, -1, 0]  # the positive stays a face
