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

from .s3fd import PyramidTest, max_shrink_dsfd


@dataclass(frozen=True)
class DSFDTest(PyramidTest):
    """:class:`PyramidTest` with DSFD's rule for ``m`` and its extra passes as defaults."""

    max_shrink: Callable[[int, int], float] = max_shrink_dsfd
    extra_small: tuple[float, ...] = (0.75,)
    extra_big: tuple[float, ...] = (1.5,)
    pyramid_small: float | None = 0.25
    pyramid_scales: tuple[float, ...] = (1.25, 1.75, 2.25)
