"""DSFD's multi-scale test (Tencent/FaceDetection-DSFD ``widerface_val.py``; spec families.md §0.3, §2.2),
which ASFD follows for its final results: the S3FD pyramid of :class:`~.s3fd.PyramidTest` plus

    det_s += detect(0.75) when m > 0.75 (before the > 30 px gate);  det_b += detect(1.5) when m > 1.5
    pyramid: detect(0.25) keep max side > 30 px;  detect(s) for s in (1.25, 1.75, 2.25) with s <= m,
             keep min side < 100 px

with ``m = min(3, sqrt(0x7fffffff / 200 / (H W)))`` and box voting at 0.3 over all passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .s3fd import PyramidTest, _side, flip_detect, max_shrink_dsfd
from .voting import DetectFn


@dataclass(frozen=True)
class DSFDTest(PyramidTest):
    """:class:`PyramidTest` with DSFD's extra passes; ``pyramid_scales`` are the fixed enlarged passes."""

    max_shrink: Callable[[int, int], float] = max_shrink_dsfd
    pyramid_small: float = 0.25
    pyramid_scales: tuple[float, ...] = (1.25, 1.75, 2.25)

    def scales(self, h: int, w: int) -> list[float]:
        m = self.max_shrink(h, w)
        out = super().scales(h, w)
        out += [0.75] if m > 0.75 else []
        out += [1.5] if m > 1.5 else []
        return out + [self.pyramid_small] + [s for s in self.pyramid_scales if s <= m]

    def passes(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        m = self.max_shrink(h, w)
        s0 = min(m, 1.0)
        parts = [detect(image, s0)]
        if self.flip:
            parts.append(flip_detect(detect, image, s0, self.flip_offset))
        st = 0.5 if m >= 0.75 else 0.5 * m
        det_s = [detect(image, st)] + ([detect(image, 0.75)] if m > 0.75 else [])
        s = np.concatenate(det_s).reshape(-1, 5)
        parts.append(s[_side(s, self.offset, np.maximum) > self.small_px])
        bt = min(2.0, m) if m > 1 else (st + m) / 2
        det_b = [detect(image, bt)] + ([detect(image, 1.5)] if m > 1.5 else [])
        if m > 2:
            bt *= 2
            while bt < m:
                det_b.append(detect(image, bt))
                bt *= 2
            det_b.append(detect(image, m))
        b = np.concatenate(det_b).reshape(-1, 5)
        keep = _side(b, self.offset, np.minimum) < self.large_px if bt > 1 else \
            _side(b, self.offset, np.maximum) > self.small_px
        parts.append(b[keep])
        p = detect(image, self.pyramid_small).reshape(-1, 5)
        parts.append(p[_side(p, self.offset, np.maximum) > self.small_px])
        for sc in self.pyramid_scales:
            if sc <= m:
                d = detect(image, sc).reshape(-1, 5)
                gate = _side(d, self.offset, np.minimum) < self.large_px if sc > 1 else \
                    _side(d, self.offset, np.maximum) > self.small_px
                parts.append(d[gate])
        return np.concatenate([q.reshape(-1, 5) for q in parts])
