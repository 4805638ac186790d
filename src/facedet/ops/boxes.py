"""Pairwise and aligned IoU variants for xyxy boxes, in numpy and torch.

``offset=1`` gives the +1-pixel convention of the WIDER evaluator and insightface's numpy NMS;
``offset=0`` the continuous convention of mmdet/torchvision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
else:
    from ..lazy import torch


def box_area_np(boxes: np.ndarray, offset: float = 0.0) -> np.ndarray:
    return (boxes[:, 2] - boxes[:, 0] + offset) * (boxes[:, 3] - boxes[:, 1] + offset)


def box_iou_np(a: np.ndarray, b: np.ndarray, offset: float = 0.0) -> np.ndarray:
    """IoU matrix ``(len(a), len(b))``; zero where the intersection is empty."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    iw = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + offset
    ih = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + offset
    valid = (iw > 0) & (ih > 0)
    inter = np.where(valid, iw * ih, 0.0)
    union = box_area_np(a, offset)[:, None] + box_area_np(b, offset)[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(valid, inter / union, 0.0)
    return iou


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    return (boxes[..., 2] - boxes[..., 0]).clamp(min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)


def box_iou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Pairwise IoU ``(len(a), len(b))`` for xyxy tensors (continuous convention)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union.clamp(min=eps)


def _aligned_inter_union(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    lt = torch.maximum(a[..., :2], b[..., :2])
    rb = torch.minimum(a[..., 2:], b[..., 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, box_area(a) + box_area(b) - inter


def _enclosing(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Width and height ``(..., 2)`` of the smallest box enclosing both."""
    lt = torch.minimum(a[..., :2], b[..., :2])
    rb = torch.maximum(a[..., 2:], b[..., 2:])
    return (rb - lt).clamp(min=0)


def aligned_iou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """IoU of row i of ``a`` with row i of ``b``."""
    inter, union = _aligned_inter_union(a, b)
    return inter / union.clamp(min=eps)


def aligned_giou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Generalised IoU of aligned rows."""
    inter, union = _aligned_inter_union(a, b)
    wh = _enclosing(a, b)
    enclose = (wh[..., 0] * wh[..., 1]).clamp(min=eps)
    return inter / union.clamp(min=eps) - (enclose - union) / enclose


def aligned_diou(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Distance-IoU ``IoU - rho^2 / c^2`` of aligned rows (c: diagonal of the enclosing box)."""
    iou = aligned_iou(a, b, eps)
    ca = (a[..., :2] + a[..., 2:]) / 2
    cb = (b[..., :2] + b[..., 2:]) / 2
    rho2 = ((ca - cb) ** 2).sum(-1)
    c2 = (_enclosing(a, b) ** 2).sum(-1) + eps
    return iou - rho2 / c2


def distance2bbox(points: torch.Tensor, distance: torch.Tensor) -> torch.Tensor:
    """Boxes from centre points ``(..., 2)`` and distances ``(l, t, r, b)``."""
    return torch.cat([points - distance[..., :2], points + distance[..., 2:]], dim=-1)


def bbox2distance(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Distances ``(l, t, r, b)`` from centre points to box sides (inverse of ``distance2bbox``)."""
    return torch.cat([points - boxes[..., :2], boxes[..., 2:] - points], dim=-1)


def box_iof(boxes: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """Intersection over foreground ``(len(boxes), len(regions))``: the share of each box's area that
    a region covers (continuous convention; zero-area boxes give 0). Used to ignore anchors under
    WIDER's invalid faces."""
    lt = torch.maximum(boxes[:, None, :2], regions[None, :, :2])
    rb = torch.minimum(boxes[:, None, 2:], regions[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (boxes[:, 2:] - boxes[:, :2]).prod(-1).clamp(min=1e-6)
    return inter / area[:, None]


def max_iof(boxes: torch.Tensor, regions: torch.Tensor | None) -> torch.Tensor:
    """Per box, the largest :func:`box_iof` over ``regions`` ``(len(boxes),)``; zeros without regions."""
    if regions is None or regions.numel() == 0:
        return boxes.new_zeros(boxes.shape[0])
    return box_iof(boxes, regions.to(boxes).reshape(-1, 4)).amax(dim=1)
