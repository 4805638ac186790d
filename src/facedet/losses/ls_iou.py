"""IoU regression losses of Group Sampling §5: least-squares IoU ``(1 - IoU)^2`` and ``-ln(IoU)``.

Per-row values on aligned xyxy boxes (no reduction), to be summed and divided by the number of
positives as eq. (5). The least-squares form has zero gradient at IoU = 1 (eq. 6), ``-ln IoU``
(UnitBox; not in ``losses/iou.py``, which has the linear ``1 - IoU``) does not (eq. 7).
"""

from __future__ import annotations

import torch

from facedet.ops.boxes import aligned_iou


def ls_iou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``(1 - IoU(pred, target))^2`` per row."""
    return (1.0 - aligned_iou(pred, target, eps)).pow(2)


def log_iou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``-ln(IoU(pred, target))`` per row; IoU clamped at ``eps`` so disjoint boxes give ``-ln eps``."""
    return -torch.log(aligned_iou(pred, target, eps).clamp(min=eps))
