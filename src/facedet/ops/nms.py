"""Greedy non-maximum suppression in numpy (ONNX Runtime path) and torch.

``nms_np`` follows insightface's reference (+1 area convention, suppress IoU > thr) when
``offset=1``; ``nms_torch`` uses torchvision's kernel when it imports and a vectorised pure-torch
fallback otherwise (continuous convention, as mmcv/torchvision).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
else:
    from ..lazy import torch

@functools.cache
def _tv_nms():  # type: ignore[no-untyped-def]
    """torchvision's compiled NMS when it imports and runs with this torch, else None; probed once, on
    first use rather than at import (the numpy path needs no torch)."""
    try:  # torchvision's compiled ops do not load with every torch build
        from torchvision.ops import nms  # type: ignore

        nms(torch.zeros((1, 4)), torch.zeros(1), 0.5)
        return nms
    except Exception:  # noqa: BLE001
        return None


def nms_np(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, offset: float = 0.0) -> np.ndarray:
    """Indices of kept boxes, in descending score order.

    Vectorised per kept box: each iteration removes every box that overlaps the current best.
    """
    if len(boxes) == 0:
        return np.zeros((0,), dtype=np.int64)
    x1, y1, x2, y2 = (boxes[:, i].astype(np.float32) for i in range(4))
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size > 0:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + offset)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + offset)
        inter = w * h
        iou = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-12)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def nms_torch(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Indices (int64) of kept boxes in descending score order."""
    if boxes.numel() == 0:
        return torch.zeros((0,), dtype=torch.long, device=boxes.device)
    tv = _tv_nms()
    if tv is not None:
        return tv(boxes.float(), scores.float(), iou_threshold)
    # Fallback: the numpy kernel (loops only over kept boxes, suppression vectorised).
    keep = nms_np(boxes.detach().float().cpu().numpy(), scores.detach().float().cpu().numpy(), iou_threshold)
    return torch.from_numpy(keep).to(boxes.device)


def batched_nms_np(
    boxes: np.ndarray, scores: np.ndarray, idxs: np.ndarray, iou_threshold: float, offset: float = 0.0
) -> np.ndarray:
    """NMS done independently per group id (e.g. per image in a batch) by offsetting boxes."""
    if len(boxes) == 0:
        return np.zeros((0,), dtype=np.int64)
    shift = (boxes.max() + 1.0) * idxs.astype(np.float32)
    return nms_np(boxes + shift[:, None], scores, iou_threshold, offset)
