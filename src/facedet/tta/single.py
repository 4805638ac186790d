"""Single-scale test (SCRFD's published protocol, spec §3.1): one pass with the long side at ``max_side``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .voting import DetectFn


@dataclass(frozen=True)
class SingleScale:
    """``detect(image, max_side / long side)``; ``upscale=False`` never enlarges a small image."""

    max_side: int = 640
    upscale: bool = True

    def __call__(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        shrink = self.max_side / max(image.shape[:2])
        return detect(image, shrink if self.upscale else min(1.0, shrink)).reshape(-1, 5)
