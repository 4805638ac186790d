"""Box decoders of the anchor-based families, behind one signature the detection API calls.

SCRFD has its own post-processor (``facedet.postprocess``, with landmarks and a numpy path for
ONNX Runtime). The other families decode with their own coders and return, per image,
``(boxes (K, 4) xyxy in network-input pixels, scores (K,))`` after NMS, best first.
"""

from __future__ import annotations

from collections.abc import Callable

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

    res = []
    for cand in decode_outputs(outputs, model, score_thr=score_thr):
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


@torch.no_grad()
def decode_family(outputs: HeadOutputs, model: nn.Module, score_thr: float, nms_thr: float,
                  top_k: int | None = None) -> Decoded:
    """Decode ``outputs`` of ``model`` with its family's decoder; ValueError for unknown families."""
    family = getattr(model, "family", None)
    if family not in DECODERS:
        raise ValueError(f"no decoder for model family {family!r}; known: scrfd, {', '.join(DECODERS)}")
    return DECODERS[family](outputs, model, score_thr, nms_thr, top_k)
