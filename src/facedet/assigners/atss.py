"""ATSS assignment (Zhang et al. 2020) with SCRFD's face-specific centre test (specs/scrfd.md §2.4).

Per ground truth: the ``topk`` anchors per level whose centres are closest to the gt centre are
candidates; the IoU threshold is their mean + unbiased std; a candidate is positive when its IoU
reaches the threshold and its centre lies inside the gt by more than ``centre_eps`` times
``sqrt(gt area)`` (SCRFD mode 0; standard ATSS uses an absolute 0.01 px instead, ``normalised=False``).
An anchor positive for several gts takes the one with the highest IoU. Fully vectorised per image.
The result is an :class:`Assignment`: labels 1 / 0 (ATSS ignores nothing itself), the assigned gt
(-1 for background) and its IoU (0 for background).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from facedet.ops.boxes import box_iou

from .base import Assignment


class ATSSAssigner:
    """Adaptive training sample selection; ``assigner(anchors, num_per_level, gt) -> Assignment``."""

    def __init__(self, topk: int = 9, centre_eps: float = 0.001, normalised: bool = True) -> None:
        self.topk = topk
        self.centre_eps = centre_eps
        self.normalised = normalised

    def __call__(
        self, anchors: torch.Tensor, num_per_level: Sequence[int], gt_boxes: torch.Tensor
    ) -> Assignment:
        """Assign ``anchors (A, 4)`` (levels concatenated) to ``gt_boxes (G, 4)``."""
        num_anchors = anchors.shape[0]
        if sum(num_per_level) != num_anchors:
            raise ValueError(f"num_per_level sums to {sum(num_per_level)}, anchors has {num_anchors} rows")
        assigned = anchors.new_full((num_anchors,), -1, dtype=torch.long)
        best_iou = anchors.new_zeros((num_anchors,))
        num_gt = gt_boxes.shape[0]
        if num_gt == 0 or num_anchors == 0:
            return Assignment((assigned >= 0).long(), assigned, best_iou)

        ious = box_iou(anchors, gt_boxes)  # (A, G)
        a_ctr = (anchors[:, :2] + anchors[:, 2:]) / 2
        g_ctr = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
        dist = torch.cdist(a_ctr, g_ctr)  # (A, G)

        candidates = []
        start = 0
        for n in num_per_level:
            k = min(self.topk, n)
            if k > 0:
                # stable sort, not topk: the anchors of one location tie in distance and must be
                # picked in a fixed (index) order for runs to be reproducible across devices
                idx = dist[start : start + n].argsort(dim=0, stable=True)[:k]
                candidates.append(idx + start)
            start += n
        cand = torch.cat(candidates, dim=0)  # (K, G)
        gt_cols = torch.arange(num_gt, device=anchors.device)
        cand_iou = ious[cand, gt_cols[None, :]]  # (K, G)
        thr = cand_iou.mean(0) + cand_iou.std(0)  # unbiased, as torch.std / mmdet
        is_pos = cand_iou >= thr[None, :]

        # centre of the candidate anchor strictly inside the gt (by a margin)
        cx = a_ctr[cand, 0]
        cy = a_ctr[cand, 1]
        margins = torch.stack(
            [
                cx - gt_boxes[None, :, 0],
                cy - gt_boxes[None, :, 1],
                gt_boxes[None, :, 2] - cx,
                gt_boxes[None, :, 3] - cy,
            ],
            dim=-1,
        ).amin(-1)
        if self.normalised:
            wh = (gt_boxes[:, 2:] - gt_boxes[:, :2]).prod(-1)
            margins = margins / wh.clamp(min=1e-4).sqrt()[None, :]
        is_pos &= margins > self.centre_eps

        masked = torch.full_like(ious, float("-inf"))
        flat_rows = cand[is_pos]
        flat_cols = gt_cols[None, :].expand_as(cand)[is_pos]
        masked[flat_rows, flat_cols] = ious[flat_rows, flat_cols]
        max_iou, argmax = masked.max(dim=1)
        pos = max_iou > float("-inf")
        assigned[pos] = argmax[pos]
        best_iou[pos] = max_iou[pos]
        return Assignment((assigned >= 0).long(), assigned, best_iou)
