"""The selection every post-processor shares: score threshold -> pre-NMS top-k -> NMS -> top-k, then
the map back to the original image. A torch path (on device) and a numpy path (ONNX Runtime) side by side.

Candidates come back best first (stable sort, so equal scores keep their row order). ``nms_offset=1``
is the +1-pixel area convention of insightface's numpy NMS; 0 the continuous one of mmcv/torchvision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..ops.nms import nms_np, nms_torch

if TYPE_CHECKING:
    import torch
else:
    from ..lazy import torch


def candidates_np(scores: np.ndarray, threshold: float, pre_nms_top_k: int | None = None,
                  inclusive: bool = False) -> np.ndarray:
    """Indices of ``scores`` above ``threshold`` (``>=`` when ``inclusive``), best first, at most ``pre_nms_top_k``."""
    keep = np.flatnonzero(scores >= threshold if inclusive else scores > threshold)
    order = np.argsort(-scores[keep], kind="stable")
    if pre_nms_top_k is not None:
        order = order[:pre_nms_top_k]
    return keep[order]


def candidates_torch(scores: torch.Tensor, threshold: float, pre_nms_top_k: int | None = None,
                     inclusive: bool = False) -> torch.Tensor:
    """Torch twin of :func:`candidates_np`."""
    keep = torch.nonzero(scores >= threshold if inclusive else scores > threshold).squeeze(1)
    order = torch.sort(scores[keep], descending=True, stable=True).indices
    if pre_nms_top_k is not None:
        order = order[:pre_nms_top_k]
    return keep[order]


def suppress_np(boxes: np.ndarray, scores: np.ndarray, nms_threshold: float, top_k: int | None = None,
                nms_offset: float = 0.0) -> np.ndarray:
    """Greedy NMS, then the best ``top_k``: indices into ``boxes``, best first."""
    keep = nms_np(boxes, scores, nms_threshold, offset=nms_offset)
    return keep if top_k is None else keep[:top_k]


def suppress_torch(boxes: torch.Tensor, scores: torch.Tensor, nms_threshold: float, top_k: int | None = None,
                   nms_offset: float = 0.0) -> torch.Tensor:
    """Torch twin of :func:`suppress_np` (the offset is added to ``x2, y2`` for the NMS only)."""
    if nms_offset:
        boxes = boxes + torch.tensor([0.0, 0.0, nms_offset, nms_offset], device=boxes.device, dtype=boxes.dtype)
    keep = nms_torch(boxes, scores, nms_threshold)
    return keep if top_k is None else keep[:top_k]


def to_image_np(boxes: np.ndarray, scale: float, image_hw: tuple[int, int] | None) -> np.ndarray:
    """Network-input boxes divided by the resize ``scale``, clipped to ``image_hw`` when given."""
    return clip_np(boxes / scale, image_hw)


def clip_np(boxes: np.ndarray, image_hw: tuple[int, int] | None) -> np.ndarray:
    """Clip xyxy boxes in place to ``image_hw`` (no-op for None); returns them."""
    if image_hw is not None:
        h, w = image_hw
        np.clip(boxes[:, 0::2], 0, w, out=boxes[:, 0::2])
        np.clip(boxes[:, 1::2], 0, h, out=boxes[:, 1::2])
    return boxes
