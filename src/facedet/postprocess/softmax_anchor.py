"""Softmax face/background heads over anchors (EXTD, S3FD, DSFD/ASFD, single-stage Group Sampling).

Face probability ``softmax(logits)[..., 1]``, threshold, pre-NMS top-k, delta decoding of the kept
rows with the model's coder, NMS, top-k, map back to the image. EXTD follows the official
``Detect`` (conf > 0.05, top 5000, NMS 0.3, keep 750: ``pre_nms_top_k=5000, default_top_k=750``);
Group Sampling keeps scores ``>=`` the threshold (``inclusive``), the best 50,000 and no cap.
The ONNX layout is raw: ``cls_<i>`` (logits ``(B, N_i, C)``) then ``reg_<i>`` (deltas ``(B, N_i, 4)``)
per level ``i``, finest first; the anchors come from the model (or the export's metadata).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..coders import DeltaCoder
from ..models.outputs import HeadOutputs
from ..priors import AnchorGrid, feat_sizes_for
from ..types import Detections
from .base import Frame, Settings
from .select import candidates_np, candidates_torch, suppress_np, suppress_torch, to_image_np

if TYPE_CHECKING:
    import torch
    from torch import Tensor
else:
    from ..lazy import torch

from ..lazy import no_grad


def softmax_face_np(logits: np.ndarray) -> np.ndarray:
    """Face probability (column 1) of ``(N, C)`` softmax logits, float32."""
    logits = logits.astype(np.float32)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e[:, 1] / e.sum(axis=1)


@dataclass(frozen=True)
class SoftmaxAnchorPostProcessor:
    """See the module docstring; ``top_k = settings.max_faces`` or ``default_top_k``."""

    anchors: AnchorGrid
    coder: DeltaCoder
    settings: Settings = Settings()
    pre_nms_top_k: int | None = 5000
    default_top_k: int | None = 750
    inclusive: bool = False
    export_error: str | None = None

    @property
    def output_names(self) -> tuple[str, ...]:
        n = self.anchors.num_levels
        return tuple(f"cls_{i}" for i in range(n)) + tuple(f"reg_{i}" for i in range(n))

    @property
    def top_k(self) -> int | None:
        return self.settings.max_faces if self.settings.max_faces is not None else self.default_top_k

    def flatten(self, out: HeadOutputs) -> tuple[Tensor, ...]:
        return tuple(list(out.cls) + list(out.reg))

    @no_grad
    def candidates(self, out: HeadOutputs) -> list[tuple[Tensor, Tensor, Tensor]]:
        """Per image, before NMS: anchor rows ``(K,)``, decoded boxes ``(K, 4)`` (network-input pixels) and
        face probabilities ``(K,)``, best first."""
        anchors = self.anchors.boxes(out.feat_sizes, out.reg[0].device)
        probs = torch.cat(out.cls, dim=1).float().softmax(dim=-1)[..., 1]
        deltas = torch.cat(out.reg, dim=1).float()
        res = []
        for b in range(deltas.shape[0]):
            keep = candidates_torch(probs[b], self.settings.score_threshold, self.pre_nms_top_k, self.inclusive)
            res.append((keep, self.coder.decode(deltas[b, keep], anchors[keep]), probs[b, keep]))
        return res

    @no_grad
    def torch(self, out: HeadOutputs, frames: Sequence[Frame]) -> list[Detections]:
        dets = []
        for (_, boxes, scores), frame in zip(self.candidates(out), frames, strict=True):
            keep = suppress_torch(boxes, scores, self.settings.nms_threshold, self.top_k)
            dets.append(self._to_image(boxes[keep].cpu().numpy(), scores[keep].cpu().numpy(), frame))
        return dets

    def numpy(self, arrays: Mapping[str, np.ndarray], frames: Sequence[Frame]) -> list[Detections]:
        if not frames:
            return []
        n = self.anchors.num_levels
        cls = [arrays[f"cls_{i}"] for i in range(n)]
        reg = [arrays[f"reg_{i}"] for i in range(n)]
        anchors = self.anchors.boxes_np(feat_sizes_for(frames[0].canvas_hw, self.anchors.strides))
        dets = []
        for b, frame in enumerate(frames):
            scores = softmax_face_np(np.concatenate([c[b].reshape(-1, c.shape[-1]) for c in cls]))
            keep = candidates_np(scores, self.settings.score_threshold, self.pre_nms_top_k, self.inclusive)
            deltas = np.concatenate([r[b].reshape(-1, 4) for r in reg]).astype(np.float32)[keep]
            boxes, scores = self.coder.decode_np(deltas, anchors[keep]).astype(np.float32), scores[keep]
            k = suppress_np(boxes, scores, self.settings.nms_threshold, self.top_k)
            dets.append(self._to_image(boxes[k], scores[k], frame))
        return dets

    def _to_image(self, boxes: np.ndarray, scores: np.ndarray, frame: Frame) -> Detections:
        hw = frame.image_hw if self.settings.clip else None
        return Detections(to_image_np(boxes.astype(np.float32), frame.scale, hw), scores)
