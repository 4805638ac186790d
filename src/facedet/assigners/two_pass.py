"""Two-pass max-IoU anchor matching of Group Sampling (paper §4.1, spec §5.2).

Pass 1 is :class:`ThresholdMatcher` ``([neg_iou, pos_iou], [0, -1, 1])``: with
``C(i) = max_j IoU(anchor_i, gt_j)``, label 1 if ``C(i) >= pos_iou`` (λ1), -1 (ignored) if
``neg_iou <= C(i) < pos_iou``, 0 if ``C(i) < neg_iou`` (λ2). Pass 2: every gt j still without a
positive anchor takes one anchor i that (1) is not positive for another gt, (2) has
``IoU(i, j) >= neg_iou`` and (3) has j as its best gt; among those we take the highest IoU (our
choice, the paper leaves it open; ties -> lowest anchor index). Because of (3) the anchors chosen
for different faces are distinct, so the whole pass is one scatter, no loop over faces.

Anchors covered by an ignore box (WIDER ``invalid`` faces: intersection over the anchor's area
``>= ignore_iof``) that are not positive become -1. RPN: λ1 = 0.6, λ2 = 0.4; Fast R-CNN: 0.6 / 0.5.
IoU uses the continuous convention (no +1).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..ops.boxes import box_iou
from .base import Assignment, covered
from .threshold import ThresholdMatcher


def ignore_mask(anchors: torch.Tensor, ignore: torch.Tensor | None, iof: float) -> torch.Tensor:
    """Anchors whose intersection with some ignore box covers ``>= iof`` of the anchor's area."""
    return covered(anchors, ignore, iof, inclusive=True)


@dataclass(frozen=True)
class TwoPassAssigner:
    """``assigner(anchors (A, 4), gt (G, 4), ignore (M, 4) | None) -> Assignment``."""

    pos_iou: float = 0.6
    neg_iou: float = 0.4
    second_pass: bool = True
    ignore_iof: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.neg_iou <= self.pos_iou <= 1.0:
            raise ValueError(f"need 0 <= neg_iou <= pos_iou <= 1, got {self.neg_iou}, {self.pos_iou}")

    def __call__(self, anchors: torch.Tensor, gt: torch.Tensor, ignore: torch.Tensor | None = None) -> Assignment:
        a, dev = anchors.shape[0], anchors.device
        gt = gt.to(anchors).reshape(-1, 4)
        ign = ignore_mask(anchors, ignore, self.ignore_iof)
        if gt.shape[0] == 0:
            return Assignment.background(a, dev, anchors.dtype).with_ignored(ign)
        if self.neg_iou < self.pos_iou:
            first = ThresholdMatcher([self.neg_iou, self.pos_iou], [0, -1, 1])
        else:  # no ignore band
            first = ThresholdMatcher([self.pos_iou], [0, 1])
        res = first.match(box_iou(gt, anchors))
        labels, gt_index, max_iou = res.labels, res.gt_index, res.quality
        if self.second_pass:
            g = gt.shape[0]
            pos = labels == 1
            matched = torch.zeros(g, dtype=torch.bool, device=dev)
            matched[gt_index[pos]] = True
            cand = ~pos & (max_iou >= self.neg_iou) & ~matched[gt_index]
            score = torch.where(cand, max_iou, torch.full_like(max_iou, -1.0))
            best = torch.full((g,), -1.0, dtype=max_iou.dtype, device=dev).scatter_reduce(
                0, gt_index, score, reduce="amax", include_self=True)
            hit = cand & (score == best[gt_index])
            idx = torch.arange(a, device=dev)
            first_hit = torch.full((g,), a, dtype=torch.long, device=dev).scatter_reduce(
                0, gt_index[hit], idx[hit], reduce="amin", include_self=True)
            labels = labels.clone()
            labels[first_hit[first_hit < a]] = 1
        return Assignment(labels, gt_index, max_iou).with_ignored(ign)
