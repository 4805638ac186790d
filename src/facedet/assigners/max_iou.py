"""S3FD max-IoU matching with scale compensation, as implemented in S3FD.pytorch / EXTD / DSFD.

``layers/bbox_utils.py::match`` with ``OVERLAP_THRESH = [0.1, 0.35, 0.5]`` (spec families.md §1.4):

1. every anchor takes its best-IoU face; every face's best anchor is forced onto that face
   (its IoU set to 2; when several faces share a best anchor the LAST face wins, as the loop does);
2. anchors with IoU >= ``pos_iou`` (0.35) are positive;
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


@dataclass
class AssignResult:
    """Per-anchor result: ``labels`` 1 face / 0 background, ``gt_index`` matched face (-1 when no face),
    ``max_iou`` the anchor's best IoU (2 for forced anchors)."""

    labels: torch.Tensor
    gt_index: torch.Tensor
    max_iou: torch.Tensor

    @property
    def pos(self) -> torch.Tensor:
        return self.labels > 0


@dataclass(frozen=True)
class MaxIoUAssigner:
    """S3FD matcher; ``compensate=False`` gives plain SSD matching (best-anchor forcing + threshold)."""

    pos_iou: float = 0.35
    comp_low: float = 0.1
    comp_high: float = 0.5
    force_best: bool = True
    compensate: bool = True

    def __call__(self, anchors: torch.Tensor, gt: torch.Tensor) -> AssignResult:
        """``anchors (A, 4)``, ``gt (G, 4)`` xyxy in the same coordinates."""
        a = anchors.shape[0]
        dev = anchors.device
        if gt.numel() == 0:
            return AssignResult(
                torch.zeros(a, dtype=torch.long, device=dev),
                torch.full((a,), -1, dtype=torch.long, device=dev),
                torch.zeros(a, dtype=anchors.dtype, device=dev),
            )
        overlaps = box_iou(gt.to(anchors.dtype), anchors)  # (G, A)
        best_anchor_iou, best_anchor = overlaps.max(dim=1)  # per face
        max_iou, gt_index = overlaps.max(dim=0)  # per anchor
        if self.force_best:
            max_iou = max_iou.index_fill(0, best_anchor, 2.0)
            faces = torch.arange(gt.shape[0], device=dev)
            # last face wins on shared best anchors, like the reference's Python loop
            forced = torch.full((a,), -1, dtype=torch.long, device=dev).scatter_reduce(
                0, best_anchor, faces, reduce="amax", include_self=True
            )
            gt_index = torch.where(forced >= 0, forced, gt_index)
        labels = (max_iou >= self.pos_iou).long()
        if self.compensate:
            n = int(((best_anchor_iou >= self.pos_iou).sum() + (best_anchor_iou >= self.comp_high).sum()) // 2)
            if n > 0:
                cand = (max_iou > self.comp_low) & (max_iou < self.pos_iou)
                score = torch.where(cand, max_iou, torch.zeros_like(max_iou))
                order = torch.sort(score, descending=True, stable=True).indices[:n]
                labels[order[cand[order]]] = 1
        return AssignResult(labels, gt_index, max_iou)
