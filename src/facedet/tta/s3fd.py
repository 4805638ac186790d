"""S3FD-style test-time augmentation: multi-scale + horizontal-flip pyramid, then box voting.

Reproduces ``wider_test.py`` of sfzhang15/SFD, which EXTD, DSFD and PyramidBox copy (spec §0.3):

    m = max_shrink(H, W);  det0 = detect(min(m, 1));  det1 = flip(detect)(min(m, 1))
    st = 0.5 if m >= 0.75 else 0.5 m;   det_s = detect(st), keep max side > 30 px
    bt = min(2, m) if m > 1 else (st + m) / 2;  det_b = detect(bt)
    if m > 2: bt *= 2; while bt < m: det_b += detect(bt); bt *= 2;  det_b += detect(m)
    det_b: keep min side < 100 px if bt > 1 else max side > 30 px
    box_vote(det0 + det1 + det_s + det_b)

``detect(image, shrink)`` is any callable returning ``(N, 5)`` rows ``x1 y1 x2 y2 score`` in the
ORIGINAL image's pixels. The reference quirks are options with the reference behaviour as default:
box sizes and IoU use the +1-pixel convention (``offset=1``), the flipped boxes map back as
``W - x2`` / ``W - x1`` (no -1), and box voting DROPS clusters of a single box. Where the reference
crashes (no cluster of two or more boxes) we return an empty array instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .voting import DetectFn, box_vote


def max_shrink_extd(h: int, w: int) -> float:
    """EXTD ``wider_test.py``: scale that brings the image to about 1700 x 1200 pixels of area."""
    return math.sqrt(1700 * 1200 / (h * w))


def max_shrink_s3fd(h: int, w: int) -> float:
    """S3FD ``wider_test.py`` (GPU-memory bound of the original Caffe model)."""
    return math.sqrt(0x7FFFFFFF / 577.0 / (h * w))


def max_shrink_dsfd(h: int, w: int) -> float:
    """DSFD ``widerface_val.py``."""
    return min(3.0, math.sqrt(0x7FFFFFFF / 200.0 / (h * w)))


def resize_by(image: np.ndarray, shrink: float) -> np.ndarray:
    """``cv2.resize(fx=fy=shrink, INTER_LINEAR)`` as the references do; identity for shrink 1."""
    if shrink == 1:
        return image
    return cv2.resize(image, None, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_LINEAR)


def flip_detect(detect: DetectFn, image: np.ndarray, shrink: float, flip_offset: float = 0.0) -> np.ndarray:
    """Detect on the mirrored image and map boxes back (reference: ``x1 = W - x2``, ``flip_offset=0``)."""
    det = detect(np.ascontiguousarray(image[:, ::-1]), shrink).copy()
    w = image.shape[1] - flip_offset
    det[:, [0, 2]] = w - det[:, [2, 0]]
    return det


def _side(det: np.ndarray, offset: float, fn) -> np.ndarray:
    return fn(det[:, 2] - det[:, 0] + offset, det[:, 3] - det[:, 1] + offset)


@dataclass(frozen=True)
class PyramidTest:
    """The S3FD multi-scale + flip pyramid with box voting; every threshold is a setting.

    ``max_shrink(h, w)``: the largest scale rule, S3FD's by default; EXTD and DSFD pass theirs
    (:func:`max_shrink_extd`, :func:`max_shrink_dsfd`). ``flip``: add the mirrored pass at the base
    scale. ``small_px`` / ``large_px``: the 30 px / 100 px size gates. DSFD's additions
    (:class:`~facedet.tta.dsfd.DSFDTest`): ``extra_small`` / ``extra_big`` passes joined to the shrunk /
    enlarged group when ``m`` exceeds them, and a fixed pyramid (``pyramid_small``, ``pyramid_scales`` up to ``m``).
    """

    max_shrink: Callable[[int, int], float] = max_shrink_s3fd
    flip: bool = True
    vote_iou: float = 0.3
    keep: int | None = 750
    drop_singletons: bool = True
    offset: float = 1.0
    flip_offset: float = 0.0
    small_px: float = 30.0
    large_px: float = 100.0
    extra_small: tuple[float, ...] = ()
    extra_big: tuple[float, ...] = ()
    pyramid_small: float | None = None
    pyramid_scales: tuple[float, ...] = ()

    def scales(self, h: int, w: int) -> list[float]:
        """Every shrink factor the pyramid runs for an ``h x w`` image (flip pass not repeated)."""
        m = self.max_shrink(h, w)
        st = 0.5 if m >= 0.75 else 0.5 * m
        bt = min(2.0, m) if m > 1 else (st + m) / 2
        out = [min(m, 1.0), st, *(s for s in self.extra_small if m > s), bt, *(s for s in self.extra_big if m > s)]
        if m > 2:
            bt *= 2
            while bt < m:
                out.append(bt)
                bt *= 2
            out.append(m)
        if self.pyramid_small is not None:
            out.append(self.pyramid_small)
        return out + [s for s in self.pyramid_scales if s <= m]

    def _gate(self, det: np.ndarray, enlarged: bool) -> np.ndarray:
        """Enlarged passes keep small faces (min side < ``large_px``), the others big ones (> ``small_px``)."""
        if enlarged:
            return det[_side(det, self.offset, np.minimum) < self.large_px]
        return det[_side(det, self.offset, np.maximum) > self.small_px]

    def passes(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        """All pyramid detections ``(N, 5)`` before voting."""
        h, w = image.shape[:2]
        m = self.max_shrink(h, w)
        s0 = min(m, 1.0)
        parts = [detect(image, s0)]
        if self.flip:
            parts.append(flip_detect(detect, image, s0, self.flip_offset))
        st = 0.5 if m >= 0.75 else 0.5 * m
        det_s = [detect(image, st)] + [detect(image, s) for s in self.extra_small if m > s]
        parts.append(self._gate(np.concatenate(det_s).reshape(-1, 5), enlarged=False))
        bt = min(2.0, m) if m > 1 else (st + m) / 2
        det_b = [detect(image, bt)] + [detect(image, s) for s in self.extra_big if m > s]
        if m > 2:
            bt *= 2
            while bt < m:
                det_b.append(detect(image, bt))
                bt *= 2
            det_b.append(detect(image, m))
        parts.append(self._gate(np.concatenate(det_b).reshape(-1, 5), enlarged=bt > 1))
        if self.pyramid_small is not None:
            parts.append(self._gate(detect(image, self.pyramid_small).reshape(-1, 5), enlarged=False))
        for sc in self.pyramid_scales:
            if sc <= m:
                parts.append(self._gate(detect(image, sc).reshape(-1, 5), enlarged=sc > 1))
        return np.concatenate([p.reshape(-1, 5) for p in parts])

    def __call__(self, detect: DetectFn, image: np.ndarray) -> np.ndarray:
        """Voted detections ``(K, 5)`` ``x1 y1 x2 y2 score`` in original-image pixels, best first."""
        return box_vote(self.passes(detect, image), self.vote_iou, self.keep, self.drop_singletons, self.offset)
