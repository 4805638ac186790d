"""Test helper: a model's own family post-processor on raw outputs, boxes in network-input pixels."""

from __future__ import annotations

import numpy as np
from torch import nn

from facedet.families import family_of
from facedet.models.detector import DetectorInfo
from facedet.models.outputs import HeadOutputs
from facedet.postprocess import Frame, Settings


def post_of(model: nn.Module, score_thr: float = 0.05, nms_thr: float = 0.3, top_k: int | None = None):
    """The family post-processor of ``model`` with these thresholds and no clipping."""
    return family_of(model).postprocess(DetectorInfo.of(model), Settings(score_thr, nms_thr, top_k, clip=False), model)


def frames(n: int, canvas_hw: tuple[int, int] = (0, 0)) -> list[Frame]:
    return [Frame(1.0, (0, 0), canvas_hw) for _ in range(n)]


def decode(out: HeadOutputs, model: nn.Module, score_thr: float = 0.05, nms_thr: float = 0.3,
           top_k: int | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per image ``(boxes (K, 4), scores (K,))`` in network-input pixels, best first (torch path)."""
    dets = post_of(model, score_thr, nms_thr, top_k).torch(out, frames(out.cls[0].shape[0]))
    return [(d.boxes, d.scores) for d in dets]
