"""Box decoders of the anchor-based families, behind one signature the detection API calls.

SCRFD has its own post-processor (``facedet.postprocess``, with landmarks and a numpy path for
ONNX Runtime). The other families decode with their own coders and return, per image,
``(boxes (K, 4) xyxy in network-input pixels, scores (K,))`` after NMS, best first:
:func:`decode_family` on the torch outputs, :func:`decode_family_np` on ONNX Runtime's raw
``cls_i`` / ``reg_i`` arrays (numpy only, anchors cached per feature-map size).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .models.outputs import HeadOutputs
from .ops.nms import nms_torch

Decoded = list[tuple[np.ndarray, np.ndarray]]


def _extd(outputs: HeadOutputs, model: nn.Module, score_thr: float, nms_thr: float, top_k: int | None) -> Decoded:
    from .models.extd.decode import decode_extd

    return decode_extd(outputs, model, score_thr=score_thr, nms_thr=nms_thr, top_k=top_k or 750)


def _group_sampling(outputs: HeadOutputs, model: nn.Module, score_thr: float, nms_thr: float,
                    top_k: int | None) -> Decoded:
    from .models.group_sampling.decode import decode_outputs
    from .models.group_sampling.fast_rcnn import proposals, refine

    rcnn = getattr(model, "rcnn", None)
    if rcnn is not None and outputs.features is not None:  # two stages: refine proposals, ensemble the scores
        cands = [c.take(torch.nonzero(c.scores >= score_thr).squeeze(1))
                 for c in refine(rcnn, outputs.features[0], proposals(outputs, model))]
    else:
        cands = decode_outputs(outputs, model, score_thr=score_thr)
    res = []
    for cand in cands:
        keep = nms_torch(cand.boxes, cand.scores, nms_thr)
        if top_k is not None:
            keep = keep[:top_k]
        res.append((cand.boxes[keep].cpu().numpy().astype(np.float32),
                    cand.scores[keep].cpu().numpy().astype(np.float32)))
    return res


DECODERS: dict[str, Callable[[HeadOutputs, nn.Module, float, float, int | None], Decoded]] = {
    "extd": _extd,
    "group_sampling": _group_sampling,
}


def _extd_np(cls: list[np.ndarray], reg: list[np.ndarray], feat_sizes: list[tuple[int, int]], model: nn.Module,
             score_thr: float, nms_thr: float, top_k: int | None) -> tuple[np.ndarray, np.ndarray]:
    from .models.extd.decode import decode_extd_np

    return decode_extd_np(cls, reg, feat_sizes, tuple(model.strides), tuple(model.anchor_sizes), score_thr, nms_thr,
                          top_k or 750, variances=tuple(getattr(model, "variances", (0.1, 0.2))))


@lru_cache(maxsize=16)
def _gs_anchors(feat_sizes: tuple[tuple[int, int], ...], strides: tuple[int, ...],
                sizes: tuple[tuple[float, ...], ...], offsets: tuple[float, ...]) -> np.ndarray:
    from .criteria.group_sampling import multi_level_anchors

    return multi_level_anchors(feat_sizes, strides, sizes, offsets)[0].numpy()


def decode_softmax_np(
    cls: Sequence[np.ndarray], reg: Sequence[np.ndarray], anchors: np.ndarray, variances: tuple[float, float],
    score_thr: float, nms_thr: float, top_k: int | None, pre_nms_top_k: int | None = None,
    max_log_wh: float | None = None, inclusive: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """ONE image of a softmax face/background head: per-level logits ``(N_l, 2)`` and encoded offsets
    ``(N_l, 4)`` over ``anchors`` -> boxes and scores after threshold (``>=`` when ``inclusive``),
    pre-NMS top-k, NMS and top-k, best first. Shared by the EXTD and Group Sampling ORT paths."""
    from .coders import decode_np
    from .ops.nms import nms_np

    logits = np.concatenate([c.reshape(-1, 2) for c in cls]).astype(np.float32)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    scores = e[:, 1] / e.sum(axis=1)
    keep = np.flatnonzero(scores >= score_thr if inclusive else scores > score_thr)
    deltas = np.concatenate([r.reshape(-1, 4) for r in reg]).astype(np.float32)[keep]
    boxes, scores = decode_np(deltas, anchors[keep], variances, max_log_wh), scores[keep]
    if pre_nms_top_k is not None and len(scores) > pre_nms_top_k:
        idx = np.argsort(-scores, kind="stable")[:pre_nms_top_k]
        boxes, scores = boxes[idx], scores[idx]
    k = nms_np(boxes, scores, nms_thr)
    if top_k is not None:
        k = k[:top_k]
    return boxes[k].astype(np.float32), scores[k].astype(np.float32)


def _group_sampling_np(cls: list[np.ndarray], reg: list[np.ndarray], feat_sizes: list[tuple[int, int]],
                       model: nn.Module, score_thr: float, nms_thr: float,
                       top_k: int | None) -> tuple[np.ndarray, np.ndarray]:
    from .criteria.group_sampling import MAX_LOG_WH, NO_VARIANCE

    anchors = _gs_anchors(tuple(feat_sizes), tuple(model.strides), tuple(model.anchor_sizes),
                          tuple(model.anchor_offsets))
    return decode_softmax_np(cls, reg, anchors, NO_VARIANCE, score_thr, nms_thr, top_k, max_log_wh=MAX_LOG_WH,
                             inclusive=True)


DECODERS_NP = {"extd": _extd_np, "group_sampling": _group_sampling_np}


def decode_family_np(cls: list[np.ndarray], reg: list[np.ndarray], feat_sizes: list[tuple[int, int]],
                     model: nn.Module, score_thr: float, nms_thr: float,
                     top_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Numpy decoding of ONE image's raw per-level ``cls`` ``(N_l, 2)`` and ``reg`` ``(N_l, 4)``."""
    family = getattr(model, "family", None)
    if family not in DECODERS_NP:
        raise ValueError(f"no numpy decoder for model family {family!r}; known: {', '.join(DECODERS_NP)}")
    return DECODERS_NP[family](cls, reg, feat_sizes, model, score_thr, nms_thr, top_k)


@torch.no_grad()
def decode_family(outputs: HeadOutputs, model: nn.Module, score_thr: float, nms_thr: float,
                  top_k: int | None = None) -> Decoded:
    """Decode ``outputs`` of ``model`` with its family's decoder; ValueError for unknown families."""
    family = getattr(model, "family", None)
    if family not in DECODERS:
        raise ValueError(f"no decoder for model family {family!r}; known: scrfd, {', '.join(DECODERS)}")
    return DECODERS[family](outputs, model, score_thr, nms_thr, top_k)
