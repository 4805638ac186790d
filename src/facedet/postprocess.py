"""Post-processing of SCRFD-style outputs: distance decoding, thresholding, NMS, rescaling.

One numpy path (ONNX Runtime deployment; no Python loop over boxes) and one torch path (torch
backend, GPU friendly). Both take per-level arrays in insightface's layout: scores ``(N_l,)``
already sigmoided, distances ``(N_l, 4)`` and keypoint offsets ``(N_l, 10)`` in stride units.
Anchor centres are cached per (feature size, stride) so repeated calls reuse them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .ops.nms import nms_np, nms_torch
from .priors import grid_points, grid_points_np
from .types import Detections


@dataclass
class SCRFDPostProcessor:
    """Decode, filter (score > ``score_threshold``), NMS and map back to the original image.

    ``nms_offset=1`` reproduces insightface's numpy NMS (+1 area convention); 0 is mmcv's.
    ``max_faces`` keeps the top-k after NMS (None: all).
    """

    strides: Sequence[int] = (8, 16, 32)
    num_anchors: int = 2
    score_threshold: float = 0.5
    nms_threshold: float = 0.4
    nms_offset: float = 1.0
    max_faces: int | None = None
    _centres: dict = field(default_factory=dict, repr=False)

    def centres_np(self, feat_size: tuple[int, int], stride: int) -> np.ndarray:
        key = ("np", feat_size, stride)
        if key not in self._centres:
            self._centres[key] = grid_points_np(feat_size, stride, self.num_anchors)
        return self._centres[key]

    def centres_torch(self, feat_size: tuple[int, int], stride: int, device: torch.device) -> torch.Tensor:
        key = ("torch", feat_size, stride, str(device))
        if key not in self._centres:
            self._centres[key] = grid_points(feat_size, stride, self.num_anchors, device=device)
        return self._centres[key]

    def __call__(
        self,
        scores: Sequence[np.ndarray],
        dists: Sequence[np.ndarray],
        kps: Sequence[np.ndarray] | None,
        feat_sizes: Sequence[tuple[int, int]],
        scale: float = 1.0,
        image_hw: tuple[int, int] | None = None,
    ) -> Detections:
        """Numpy path for one image; inputs per level, as ONNX Runtime returns them (batch removed)."""
        all_pts, all_s, all_d, all_k = [], [], [], []
        for lvl, stride in enumerate(self.strides):
            s = scores[lvl].reshape(-1)
            keep = np.flatnonzero(s > self.score_threshold)
            if keep.size == 0:
                continue
            all_pts.append(self.centres_np(feat_sizes[lvl], stride)[keep])
            all_s.append(s[keep])
            all_d.append(dists[lvl].reshape(-1, 4)[keep] * stride)
            if kps is not None:
                all_k.append(kps[lvl].reshape(-1, 10)[keep] * stride)
        if not all_s:
            return Detections.empty(with_landmarks=kps is not None)
        pts = np.concatenate(all_pts)
        sc = np.concatenate(all_s)
        d = np.concatenate(all_d)
        boxes = np.concatenate([pts - d[:, :2], pts + d[:, 2:]], axis=1) / scale
        lms = None
        if kps is not None:
            lms = (np.concatenate(all_k).reshape(-1, 5, 2) + pts[:, None, :]) / scale
        keep = nms_np(boxes, sc, self.nms_threshold, offset=self.nms_offset)
        if self.max_faces is not None:
            keep = keep[: self.max_faces]
        boxes = boxes[keep]
        if image_hw is not None:
            h, w = image_hw
            np.clip(boxes[:, 0::2], 0, w, out=boxes[:, 0::2])
            np.clip(boxes[:, 1::2], 0, h, out=boxes[:, 1::2])
        return Detections(boxes, sc[keep], None if lms is None else lms[keep])

    def decode_torch(
        self,
        scores: Sequence[torch.Tensor],
        dists: Sequence[torch.Tensor],
        kps: Sequence[torch.Tensor] | None,
        feat_sizes: Sequence[tuple[int, int]],
        scale: float = 1.0,
        image_hw: tuple[int, int] | None = None,
    ) -> Detections:
        """Torch path for one image (tensors on any device); thresholding and NMS stay on device."""
        dev = scores[0].device
        pts_l, s_l, d_l, k_l = [], [], [], []
        for lvl, stride in enumerate(self.strides):
            s = scores[lvl].reshape(-1)
            keep = torch.nonzero(s > self.score_threshold).squeeze(1)
            pts_l.append(self.centres_torch(feat_sizes[lvl], stride, dev)[keep])
            s_l.append(s[keep])
            d_l.append(dists[lvl].reshape(-1, 4)[keep] * stride)
            if kps is not None:
                k_l.append(kps[lvl].reshape(-1, 10)[keep] * stride)
        pts, sc, d = torch.cat(pts_l), torch.cat(s_l), torch.cat(d_l)
        boxes = torch.cat([pts - d[:, :2], pts + d[:, 2:]], dim=1) / scale
        if self.nms_offset:
            keep = nms_torch(boxes + torch.tensor([0, 0, self.nms_offset, self.nms_offset], device=dev), sc,
                             self.nms_threshold)
        else:
            keep = nms_torch(boxes, sc, self.nms_threshold)
        if self.max_faces is not None:
            keep = keep[: self.max_faces]
        boxes = boxes[keep]
        if image_hw is not None:
            h, w = image_hw
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, w)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, h)
        lms = None
        if kps is not None:
            lms = ((torch.cat(k_l).reshape(-1, 5, 2) + pts[:, None, :]) / scale)[keep].cpu().numpy()
        return Detections(boxes.cpu().numpy(), sc[keep].cpu().numpy(), lms)
