"""AInnoFace / SRN decoding (SRN ``rpn_proposal.py`` + ``srn.py``; spec families.md §4.3), torch and
numpy (ONNX Runtime) side by side; importable without torch.

Per level: second-step face probability ``q = sigmoid(z2)`` above the score threshold; on the STC
levels also the first-step face probability above 0.01 (background ≤ θ = 0.99); on the STR levels the
anchors are first moved by the first-step deltas, and the second-step deltas decode from the moved
anchors; the best ``pre_nms_top_k`` (6000) per level; then over all levels NMS (0.4) and the best
``top_k`` (750).

SRN's sparse-level rule — a level with fewer than 120 positions takes every anchor (threshold 0) —
applies in the evaluation regime only, i.e. when the score threshold is at most SRN's own 0.05
(``sparse_rule_below``): at a user's threshold (0.5) it would return boxes scored below that threshold.

ONNX layout: ``cls_<i>`` / ``reg_<i>`` (second step, every level), then ``first_cls_<i>`` on the STC
levels and ``first_reg_<i>`` on the STR levels. The numpy path reads the STC / STR levels from the
names it is given, so an export decodes from its file alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...coders import DeltaCoder
from ...models.detector import DetectorInfo
from ...models.outputs import HeadOutputs
from ...postprocess import Frame, Settings
from ...postprocess.select import candidates_np, candidates_torch, suppress_np, suppress_torch, to_image_np
from ...priors import AnchorGrid, feat_sizes_for
from ...types import Detections

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn
else:
    from ...lazy import torch

from ...lazy import no_grad

STC_THETA = 0.99  # = facedet.samplers.stc.STC_THETA (that package needs torch; this module must not)
STC_LEVELS = (0, 1, 2)
STR_LEVELS = (3, 4, 5)


def _sigmoid_np(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float32)))


@dataclass(frozen=True)
class TwoStepPostProcessor:
    """See the module docstring; ``top_k = settings.max_faces`` or ``default_top_k``."""

    anchors: AnchorGrid
    coder: DeltaCoder
    settings: Settings = Settings()
    stc_levels: tuple[int, ...] = STC_LEVELS
    str_levels: tuple[int, ...] = STR_LEVELS
    theta: float = STC_THETA
    pre_nms_top_k: int = 6000
    default_top_k: int | None = 750
    min_positions: int = 120
    sparse_threshold: float = 0.0
    sparse_rule_below: float = 0.05
    export_error: str | None = None

    @property
    def output_names(self) -> tuple[str, ...]:
        n = self.anchors.num_levels
        return (tuple(f"cls_{i}" for i in range(n)) + tuple(f"reg_{i}" for i in range(n))
                + tuple(f"first_cls_{i}" for i in self.stc_levels) + tuple(f"first_reg_{i}" for i in self.str_levels))

    @property
    def top_k(self) -> int | None:
        return self.settings.max_faces if self.settings.max_faces is not None else self.default_top_k

    def level_threshold(self, feat_size: tuple[int, int]) -> float:
        """The second-step score threshold of a level of ``feat_size`` positions (the sparse-level rule)."""
        thr = self.settings.score_threshold
        if feat_size[0] * feat_size[1] < self.min_positions and thr <= self.sparse_rule_below:
            return min(thr, self.sparse_threshold)
        return thr

    def flatten(self, out: HeadOutputs) -> tuple[Tensor, ...]:
        if out.aux is None:
            raise ValueError("two-step outputs need the first step (HeadOutputs.aux)")
        return tuple(list(out.cls) + list(out.reg) + [out.aux.cls[i] for i in self.stc_levels]
                     + [out.aux.reg[i] for i in self.str_levels])

    @no_grad
    def torch(self, out: HeadOutputs, frames: Sequence[Frame]) -> list[Detections]:
        if out.aux is None:
            raise ValueError("two-step outputs need the first step (HeadOutputs.aux)")
        device = out.reg[0].device
        anchors = self.anchors.boxes(out.feat_sizes, device).split(self.anchors.counts(out.feat_sizes))
        dets = []
        for b, frame in enumerate(frames):
            boxes, scores = [], []
            for i, fs in enumerate(out.feat_sizes):
                q = torch.sigmoid(out.cls[i][b, :, 0].float())
                if i in self.stc_levels:
                    q = torch.where(torch.sigmoid(out.aux.cls[i][b, :, 0].float()) > 1.0 - self.theta, q,
                                    torch.zeros_like(q))
                keep = candidates_torch(q, self.level_threshold(fs), self.pre_nms_top_k)
                a = anchors[i][keep]
                if i in self.str_levels:
                    a = self.coder.decode(out.aux.reg[i][b, keep].float(), a)
                boxes.append(self.coder.decode(out.reg[i][b, keep].float(), a))
                scores.append(q[keep])
            bx, sc = torch.cat(boxes), torch.cat(scores)
            k = suppress_torch(bx, sc, self.settings.nms_threshold, self.top_k)
            dets.append(self._to_image(bx[k].cpu().numpy(), sc[k].cpu().numpy(), frame))
        return dets

    def numpy(self, arrays: Mapping[str, np.ndarray], frames: Sequence[Frame]) -> list[Detections]:
        if not frames:
            return []
        n = self.anchors.num_levels
        stc = tuple(i for i in range(n) if f"first_cls_{i}" in arrays)
        str_ = tuple(i for i in range(n) if f"first_reg_{i}" in arrays)
        sizes = feat_sizes_for(frames[0].canvas_hw, self.anchors.strides)
        counts = np.cumsum([0, *self.anchors.counts(sizes)])
        anchors = self.anchors.boxes_np(sizes)
        dets = []
        for b, frame in enumerate(frames):
            boxes, scores = [], []
            for i, fs in enumerate(sizes):
                q = _sigmoid_np(arrays[f"cls_{i}"][b].reshape(-1))
                if i in stc:
                    q = np.where(_sigmoid_np(arrays[f"first_cls_{i}"][b].reshape(-1)) > 1.0 - self.theta, q, 0.0)
                keep = candidates_np(q, self.level_threshold(fs), self.pre_nms_top_k)
                a = anchors[counts[i]:counts[i + 1]][keep]
                if i in str_:
                    a = self.coder.decode_np(arrays[f"first_reg_{i}"][b].reshape(-1, 4)[keep].astype(np.float32), a)
                deltas = arrays[f"reg_{i}"][b].reshape(-1, 4)[keep].astype(np.float32)
                boxes.append(self.coder.decode_np(deltas, a).astype(np.float32))
                scores.append(q[keep].astype(np.float32))
            bx, sc = np.concatenate(boxes), np.concatenate(scores)
            k = suppress_np(bx, sc, self.settings.nms_threshold, self.top_k)
            dets.append(self._to_image(bx[k], sc[k], frame))
        return dets

    def _to_image(self, boxes: np.ndarray, scores: np.ndarray, frame: Frame) -> Detections:
        hw = frame.image_hw if self.settings.clip else None
        return Detections(to_image_np(boxes.astype(np.float32), frame.scale, hw), scores)


def postprocess(info: DetectorInfo, settings: Settings, model: nn.Module | None = None) -> TwoStepPostProcessor:
    """The post-processor of an AInnoFace model (its STC / STR levels; SRN's defaults on the ONNX path)."""
    stc = tuple(getattr(model, "stc_levels", STC_LEVELS))
    str_ = tuple(getattr(model, "str_levels", STR_LEVELS))
    return TwoStepPostProcessor(info.anchors, info.coder, settings, stc, str_)  # type: ignore[arg-type]
