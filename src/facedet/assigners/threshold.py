"""Threshold matching on a quality matrix, in the style of detectron2's ``Matcher``.

``thresholds`` ``[t_1 < ... < t_n]`` cut the best quality of every anchor into ``n + 1`` intervals
``[-inf, t_1), [t_1, t_2), ..., [t_n, inf)``, and ``labels`` (1 face, 0 background, -1 ignore) names
each. ``force_best`` then gives every face its best anchor, SSD / S3FD style (``layers/box_utils.py
::match``): that anchor is labelled 1, matched to the face and its quality set to 2.0; when several
faces share a best anchor the LAST face wins, as the reference loop does. Used by S3FD/EXTD
(``[0.35], [0, 1]`` + compensation), DSFD/ASFD (``[0.4], [0, 1]``, force best), SRN/AInnoFace step 1
(``[0.3, 0.7], [0, -1, 1]``) and step 2 (``[0.4, 0.5]``), Group Sampling pass 1 (``[0.4, 0.6]``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..ops.boxes import box_iou
from .base import Assignment


class ThresholdMatcher:
    """``matcher(anchors (A, 4), gt (G, 4)) -> Assignment``; :meth:`match` takes the ``(G, A)`` quality matrix."""

    def __init__(self, thresholds: Sequence[float], labels: Sequence[int], force_best: bool = False) -> None:
        thr = [float(t) for t in thresholds]
        if any(b <= a for a, b in zip(thr, thr[1:], strict=False)):
            raise ValueError(f"thresholds must increase, got {thr}")
        if len(labels) != len(thr) + 1 or any(lb not in (-1, 0, 1) for lb in labels):
            raise ValueError(f"need {len(thr) + 1} labels in {{-1, 0, 1}} for thresholds {thr}, got {list(labels)}")
        self.thresholds, self.labels, self.force_best = tuple(thr), tuple(int(lb) for lb in labels), force_best

    def __repr__(self) -> str:
        return f"ThresholdMatcher({list(self.thresholds)}, {list(self.labels)}, force_best={self.force_best})"

    def __call__(self, anchors: torch.Tensor, gt: torch.Tensor) -> Assignment:
        gt = gt.to(anchors).reshape(-1, 4)
        if gt.shape[0] == 0:
            return self._empty(anchors.shape[0], anchors.device, anchors.dtype)
        return self.match(box_iou(gt, anchors))

    def _empty(self, num: int, device: torch.device, dtype: torch.dtype) -> Assignment:
        a = Assignment.background(num, device, dtype)
        label = self.labels[int(torch.bucketize(torch.zeros(()), torch.tensor(self.thresholds), right=True))]
        return Assignment(torch.full_like(a.labels, label), a.gt_index, a.quality)

    def match(self, quality: torch.Tensor) -> Assignment:
        """Assignment from a ``(G, A)`` quality matrix (IoU of every face with every anchor)."""
        g, a = quality.shape
        if g == 0:
            return self._empty(a, quality.device, quality.dtype)
        best, gt_index = quality.max(dim=0)
        bounds = torch.tensor(self.thresholds, dtype=best.dtype, device=best.device)
        table = torch.tensor(self.labels, dtype=torch.long, device=best.device)
        labels = table[torch.bucketize(best, bounds, right=True)]
        if self.force_best:
            best_anchor = quality.argmax(dim=1)  # per face; first index on ties
            faces = torch.arange(g, device=quality.device)
            forced = torch.full((a,), -1, dtype=torch.long, device=quality.device).scatter_reduce(
                0, best_anchor, faces, reduce="amax", include_self=True)  # last face wins
            hit = forced >= 0
            gt_index = torch.where(hit, forced, gt_index)
            best = torch.where(hit, torch.full_like(best, 2.0), best)
            labels = torch.where(hit, torch.ones_like(labels), labels)
        return Assignment(labels, gt_index, best)
