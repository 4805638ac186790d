"""S3FD max-IoU matching with scale compensation, as implemented in S3FD.pytorch / EXTD.

``layers/bbox_utils.py::match`` with ``OVERLAP_THRESH = [0.1, 0.35, 0.5]`` (spec families.md §1.4):

1. and 2. are :class:`ThresholdMatcher` ``([pos_iou], [0, 1], force_best=True)``: every anchor takes
   its best-IoU face, every face's best anchor is forced onto that face (quality 2; when several
   faces share a best anchor the LAST face wins, as the loop does), anchors with IoU >= ``pos_iou``
   (0.35) are positive;
3. ``N = (#faces whose best IoU >= pos_iou + #faces whose best IoU >= comp_high) // 2``;
4. among the anchors with ``comp_low < IoU < pos_iou`` the N with the highest IoU, image-wide (not
   per face), also become positive (scale compensation).

Differences from the reference, documented: ties in step 4 are broken by a stable sort (the
reference's unstable CUDA sort is arbitrary); an image without faces gives all-background instead
of crashing. IoU uses the continuous convention (no +1), as the reference ``jaccard``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..ops.boxes import box_iou
from .base import Assignment
from .threshold import ThresholdMatcher


@dataclass(frozen=True)
class S3FDMatcher:
    """S3FD matcher; ``compensate=False`` gives plain SSD matching (best-anchor forcing + threshold)."""

    pos_iou: float = 0.35
    comp_low: float = 0.1
    comp_high: float = 0.5
    force_best: bool = True
    compensate: bool = True

    def __call__(self, anchors: torch.Tensor, gt: torch.Tensor) -> Assignment:
        """``anchors (A, 4)``, ``gt (G, 4)`` xyxy in the same coordinates."""
        if gt.numel() == 0:
            return Assignment.background(anchors.shape[0], anchors.device, anchors.dtype)
        overlaps = box_iou(gt.to(anchors.dtype), anchors)  # (G, A)
        res = ThresholdMatcher([self.pos_iou], [0, 1], self.force_best).match(overlaps)
        if not self.compensate:
            return res
        best_face_iou = overlaps.amax(dim=1)  # per face, before forcing
        n = int(((best_face_iou >= self.pos_iou).sum() + (best_face_iou >= self.comp_high).sum()) // 2)
        if n <= 0:
            return res
        q = res.quality
        cand = (q > self.comp_low) & (q < self.pos_iou)
        score = torch.where(cand, q, torch.zeros_like(q))
        order = torch.sort(score, descending=True, stable=True).indices[:n]
        labels = res.labels.clone()
        labels[order[cand[order]]] = 1
        return Assignment(labels, res.gt_index, q)
