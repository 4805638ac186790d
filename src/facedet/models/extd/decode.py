"""EXTD inference decoding: softmax, score threshold, pre-NMS top-k, NMS, final top-k.

Follows the official ``layers/functions/detection.py::Detect`` (conf > 0.05, top 5000 by score
before NMS, NMS IoU 0.3 continuous convention, keep 750). Boxes come back in network-input pixels;
the caller undoes its resize. A torch path (``decode_extd``) and a numpy path for ONNX Runtime
(``decode_extd_np``) share the same anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ...coders import decode
from ...ops.nms import nms_torch
from ...priors import square_anchors
from ..outputs import HeadOutputs


@lru_cache(maxsize=32)
def _anchors_cached(
    feat_sizes: tuple[tuple[int, int], ...], strides: tuple[int, ...], sizes: tuple[float, ...], offset: float
) -> torch.Tensor:
    return torch.cat(
        [square_anchors(fs, s, [a], offset) for fs, s, a in zip(feat_sizes, strides, sizes, strict=True)]
    )


def extd_anchors(
    feat_sizes: Sequence[tuple[int, int]],
    strides: Sequence[int] = (4, 8, 16, 32, 64, 128),
    sizes: Sequence[float] = (16, 32, 64, 128, 256, 512),
    offset: float = 0.5,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """All levels' square anchors ``(N, 4)`` xyxy in input pixels, finest level first (cached)."""
    key = tuple(tuple(int(v) for v in fs) for fs in feat_sizes)
    anchors = _anchors_cached(key, tuple(strides), tuple(float(s) for s in sizes), float(offset))
    return anchors if device is None else anchors.to(device)


def model_anchors(model: nn.Module, feat_sizes: Sequence[tuple[int, int]], device=None) -> torch.Tensor:
    """:func:`extd_anchors` with the model's strides, anchor sizes and offset."""
    return extd_anchors(feat_sizes, model.strides, model.anchor_sizes, model.anchor_offset, device)


def _select_torch(boxes, scores, score_thr, nms_thr, pre_nms_top_k, top_k):
    keep = torch.nonzero(scores > score_thr).squeeze(1)
    boxes, scores = boxes[keep], scores[keep]
    if pre_nms_top_k is not None and scores.numel() > pre_nms_top_k:
        idx = torch.topk(scores, pre_nms_top_k).indices
        boxes, scores = boxes[idx], scores[idx]
    keep = nms_torch(boxes, scores, nms_thr)
    if top_k is not None:
        keep = keep[:top_k]
    return boxes[keep], scores[keep]


@torch.no_grad()
def decode_extd(
    outputs: HeadOutputs,
    model: nn.Module,
    score_thr: float = 0.05,
    nms_thr: float = 0.3,
    top_k: int | None = 750,
    pre_nms_top_k: int | None = 5000,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per image ``(boxes (K, 4) xyxy float32 in network-input pixels, face scores (K,))``, best first."""
    anchors = model_anchors(model, outputs.feat_sizes, outputs.reg[0].device)
    probs = torch.cat(outputs.cls, dim=1).float().softmax(dim=-1)[..., 1]
    deltas = torch.cat(outputs.reg, dim=1).float()
    variances = tuple(getattr(model, "variances", (0.1, 0.2)))
    results = []
    for b in range(deltas.shape[0]):
        boxes = decode(deltas[b], anchors, variances)  # type: ignore[arg-type]
        bx, sc = _select_torch(boxes, probs[b], score_thr, nms_thr, pre_nms_top_k, top_k)
        results.append((bx.cpu().numpy().astype(np.float32), sc.cpu().numpy().astype(np.float32)))
    return results


def decode_extd_np(
    cls: Sequence[np.ndarray],
    reg: Sequence[np.ndarray],
    feat_sizes: Sequence[tuple[int, int]],
    strides: Sequence[int] = (4, 8, 16, 32, 64, 128),
    anchor_sizes: Sequence[float] = (16, 32, 64, 128, 256, 512),
    score_thr: float = 0.05,
    nms_thr: float = 0.3,
    top_k: int | None = 750,
    pre_nms_top_k: int | None = 5000,
    variances: tuple[float, float] = (0.1, 0.2),
) -> tuple[np.ndarray, np.ndarray]:
    """Numpy path for ONE image: per-level logits ``(N_l, 2)`` and offsets ``(N_l, 4)`` (batch removed)."""
    from facedet.decoders import decode_softmax_np

    anchors = extd_anchors(feat_sizes, strides, anchor_sizes).numpy()
    return decode_softmax_np(cls, reg, anchors, variances, score_thr, nms_thr, top_k, pre_nms_top_k)
