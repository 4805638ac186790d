"""Image-pyramid test with an NMS merge (Group Sampling §5, spec §5.5), on the ``DetectFn`` protocol.

Every scale whose resized long side stays within ``max_side`` runs (the smallest always does),
with a flipped pass when ``flip``; the candidates of all passes (original-image pixels) are cut to
the best ``pre_nms_top_k``, merged by NMS at ``nms_thr`` and the best ``max_det`` kept. Group
Sampling's own pyramid (``families/group_sampling/pyramid.py``) adds the per-sub-detector "@S"
bookkeeping on top of the same scale rule (:func:`pyramid_scales`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..ops.nms import nms_np
from .s3fd import flip_detect
from .voting import DetectFn

QUARTER_STEPS = tuple(0.25 * n for n in range(1, 9))  # the training scale jitter 0.25·n, n = 1..8


def pyramid_scales(height: int, width: int, scales: Sequence[float] = QUARTER_STEPS,
                   max_side: float = 3000.0) -> list[float]:
    """The scales whose resized longer side stays ``<= max_side`` (at least the smallest scale)."""
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    kept = [s for s in scales if max(height, width) * s <= max_side]
    return kept or [min(scales)]


@dataclass(frozen=True)
class ScalePyramid:
    """See the module docstring."""

    scales: tuple[float, ...] = QUARTER_STEPS
    max_side: float = 3000.0
    flip: bool = False
    nms_thr: float = 0.5
    pre_nms_top_k: int = 50_000
    max_det: int = 1000

    def passes(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        parts = []
        for s in pyramid_scales(h, w, self.scales, self.max_side):
            parts.append(detect(image, s).reshape(-1, 5))
            if self.flip:
                parts.append(flip_detect(detect, image, s).reshape(-1, 5))
        return np.concatenate(parts)

    def __call__(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        dets = self.passes(detect, image)
        dets = dets[np.argsort(-dets[:, 4], kind="stable")[: self.pre_nms_top_k]]
        keep = nms_np(dets[:, :4], dets[:, 4], self.nms_thr)[: self.max_det]
        return dets[keep]
