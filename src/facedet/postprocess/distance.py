"""Distance decoding (SCRFD): sigmoid scores, ``l t r b`` distances and landmark offsets around centres.

The ONNX layout is insightface's: ``score_<s>`` (sigmoided, ``(B, N_s, 1)``), ``bbox_<s>``
(``(B, N_s, 4)``, stride units) and, for landmark models, ``kps_<s>`` (``(B, N_s, 10)``) per stride
``s``, so the numpy path runs our exports and insightface's files alike. Per level: threshold
(score > ``score_threshold``), decode the kept rows, concatenate, divide by the resize scale, NMS
with the +1-pixel convention of insightface's reference (``nms_offset=1``; 0 is mmcv's), keep
``max_faces``, clip to the image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..coders import DistanceCoder
from ..models.outputs import HeadOutputs
from ..priors import PointGrid, feat_sizes_for
from ..types import Detections
from .base import Frame, Settings
from .select import clip_np, suppress_np, suppress_torch

if TYPE_CHECKING:
    import torch
    from torch import Tensor
else:
    from ..lazy import torch

from ..lazy import no_grad


@dataclass(frozen=True)
class DistancePostProcessor:
    """SCRFD-style post-processing over a :class:`PointGrid`; see the module docstring."""

    points: PointGrid
    settings: Settings = Settings()
    has_kps: bool = False
    coder: DistanceCoder = DistanceCoder()
    nms_offset: float = 1.0
    export_error: str | None = None

    @property
    def output_names(self) -> tuple[str, ...]:
        roles = ("score", "bbox", "kps") if self.has_kps else ("score", "bbox")
        return tuple(f"{role}_{s}" for role in roles for s in self.points.strides)

    def flatten(self, out: HeadOutputs) -> tuple[Tensor, ...]:
        kps = list(out.kps) if self.has_kps and out.kps is not None else []
        return tuple([c.sigmoid() for c in out.cls] + list(out.reg) + kps)

    @no_grad
    def torch(self, out: HeadOutputs, frames: Sequence[Frame]) -> list[Detections]:
        sig = [c.sigmoid() for c in out.cls]
        points = self.points.points(out.feat_sizes, sig[0].device)
        kps = out.kps if self.has_kps else None
        return [self._one_torch([x[b] for x in sig], [x[b] for x in out.reg],
                                None if kps is None else [x[b] for x in kps], points, f)
                for b, f in enumerate(frames)]

    def numpy(self, arrays: Mapping[str, np.ndarray], frames: Sequence[Frame]) -> list[Detections]:
        strides = self.points.strides
        scores = [arrays[f"score_{s}"] for s in strides]
        dists = [arrays[f"bbox_{s}"] for s in strides]
        kps = [arrays[f"kps_{s}"] for s in strides] if self.has_kps else None
        if not frames:
            return []
        points = self.points.points_np(feat_sizes_for(frames[0].canvas_hw, strides))
        return [self._one_np([x[b] for x in scores], [x[b] for x in dists],
                             None if kps is None else [x[b] for x in kps], points, f)
                for b, f in enumerate(frames)]

    def _one_np(self, scores: list[np.ndarray], dists: list[np.ndarray], kps: list[np.ndarray] | None,
                points: list[np.ndarray], frame: Frame) -> Detections:
        st = self.settings
        all_s, all_b, all_k = [], [], []
        for lvl, stride in enumerate(self.points.strides):
            s = scores[lvl].reshape(-1)
            keep = np.flatnonzero(s > st.score_threshold)
            if keep.size == 0:
                continue
            pts = points[lvl][keep]
            all_s.append(s[keep])
            all_b.append(self.coder.decode_np(dists[lvl].reshape(-1, 4)[keep], pts, float(stride)))
            if kps is not None:
                all_k.append(self.coder.decode_points_np(kps[lvl].reshape(-1, 10)[keep], pts, float(stride)))
        if not all_s:
            return Detections.empty(with_landmarks=kps is not None)
        sc = np.concatenate(all_s)
        boxes = np.concatenate(all_b) / frame.scale
        keep = suppress_np(boxes, sc, st.nms_threshold, st.max_faces, self.nms_offset)
        lms = None if kps is None else (np.concatenate(all_k) / frame.scale)[keep]
        return Detections(clip_np(boxes[keep], frame.image_hw if st.clip else None), sc[keep], lms)

    def _one_torch(self, scores: list[Tensor], dists: list[Tensor], kps: list[Tensor] | None,
                   points: list[Tensor], frame: Frame) -> Detections:
        st = self.settings
        s_l, b_l, k_l = [], [], []
        for lvl, stride in enumerate(self.points.strides):
            s = scores[lvl].reshape(-1)
            keep = torch.nonzero(s > st.score_threshold).squeeze(1)
            pts = points[lvl][keep]
            s_l.append(s[keep])
            b_l.append(self.coder.decode(dists[lvl].reshape(-1, 4)[keep], pts, float(stride)))
            if kps is not None:
                k_l.append(self.coder.decode_points(kps[lvl].reshape(-1, 10)[keep], pts, float(stride)))
        sc = torch.cat(s_l)
        boxes = torch.cat(b_l) / frame.scale
        keep = suppress_torch(boxes, sc, st.nms_threshold, st.max_faces, self.nms_offset)
        lms = None if kps is None else (torch.cat(k_l) / frame.scale)[keep].cpu().numpy()
        out = clip_np(boxes[keep].cpu().numpy(), frame.image_hw if st.clip else None)
        return Detections(out, sc[keep].cpu().numpy(), lms)
