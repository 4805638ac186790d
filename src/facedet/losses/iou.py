"""Box regression losses on aligned xyxy boxes: IoU, GIoU, DIoU and smooth-L1.

All return per-row values (no reduction) so callers can weight and normalise them as their
paper says (SCRFD: DIoU weighted by the predicted quality, divided by the sum of the weights).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from facedet.ops.boxes import aligned_diou, aligned_giou, aligned_iou


def iou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``1 - IoU`` per row (linear IoU loss, as mmdet's ``IoULoss(linear=True)``)."""
    return 1.0 - aligned_iou(pred, target, eps)


def giou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """``1 - GIoU`` per row."""
    return 1.0 - aligned_giou(pred, target, eps)


def diou_loss(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """``1 - IoU + rho^2 / c^2`` per row (Zheng et al. 2020)."""
    return 1.0 - aligned_diou(pred, target, eps)


def smooth_l1_loss(pred: torch.Tensor, target: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Element-wise smooth-L1: ``0.5 d^2 / beta`` below ``beta``, ``d - 0.5 beta`` above."""
    if beta <= 0:
        return (pred - target).abs()
    diff = (pred - target).abs()
    return torch.where(diff < beta, 0.5 * diff * diff / beta, diff - 0.5 * beta)


BOX_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "iou": iou_loss,
    "giou": giou_loss,
    "diou": diou_loss,
}


def box_loss(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Look a box loss up by name (``iou``, ``giou``, ``diou``)."""
    if name not in BOX_LOSSES:
        raise ValueError(f"unknown box loss {name!r}; choose one of {sorted(BOX_LOSSES)}")
    return BOX_LOSSES[name]
