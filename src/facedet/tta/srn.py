"""SRN's multi-scale + flip test with box voting (ChiCheng123/SRN ``tools/test.py``; spec families.md §4.8),
on the ``detect(image, shrink) -> (N, 5)`` protocol (original-image pixels).

With ``L = max_size²`` and an ``H x W`` image:

- ``H·W < L``: the image at 1 and flipped; at 0.5 (keep boxes whose longer side > 30 px); enlarged by
  1.5^t for t = 1 .. floor(log_2.25(L / (H·W))) and at sqrt(L / (H·W)) (keep shorter side < 100 px);
- otherwise: at r = sqrt(L / (H·W)) and flipped; at 0.75 r and 0.5 r (keep longer side > 30 px);

then box voting at IoU 0.5 (singletons dropped, +1-pixel sizes, as the code), the best 750. The
reference's ``max_size`` is 2100 (1400 on 11–12 GB GPUs); on a CPU pick a smaller one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .s3fd import flip_detect
from .voting import DetectFn, box_vote


def _longer(d: np.ndarray) -> np.ndarray:
    return np.maximum(d[:, 2] - d[:, 0] + 1, d[:, 3] - d[:, 1] + 1)


def _shorter(d: np.ndarray) -> np.ndarray:
    return np.minimum(d[:, 2] - d[:, 0] + 1, d[:, 3] - d[:, 1] + 1)


@dataclass(frozen=True)
class SRNTest:
    """See the module docstring; every threshold is a setting."""

    max_size: int = 2100
    vote_iou: float = 0.5
    keep: int | None = 750
    small_px: float = 30.0
    large_px: float = 100.0
    flip_offset: float = 1.0  # SRN maps a flipped box back as W - x2 - 1

    def scales(self, h: int, w: int) -> tuple[list[float], list[float], list[float]]:
        """``(base, small, large)`` scale lists; the base scale also runs flipped."""
        if h <= 0 or w <= 0:
            raise ValueError(f"image size must be positive, got {h}x{w}")
        area = float(self.max_size) ** 2
        top = math.sqrt(area / (h * w))
        if h * w < area:
            enlarge = int(math.floor(math.log(area / (h * w), 2.25)))
            return [1.0], [0.5], [1.5 ** (t + 1) for t in range(enlarge)] + [top]
        return [top], [0.75 * top, 0.5 * top], []

    def passes(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        """All detections ``(N, 5)`` before voting."""
        h, w = image.shape[:2]
        base, small, large = self.scales(h, w)
        parts = [detect(image, base[0]).reshape(-1, 5),
                 flip_detect(detect, image, base[0], self.flip_offset).reshape(-1, 5)]
        s = np.concatenate([detect(image, f).reshape(-1, 5) for f in small])
        parts.append(s[_longer(s) > self.small_px])
        if large:
            b = np.concatenate([detect(image, f).reshape(-1, 5) for f in large])
            parts.append(b[_shorter(b) < self.large_px])
        return np.concatenate(parts)

    def __call__(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        """Voted detections ``(K, 5)`` best first."""
        return box_vote(self.passes(detect, image), self.vote_iou, self.keep, drop_singletons=True, offset=1.0)
