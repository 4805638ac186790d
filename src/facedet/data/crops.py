"""Training crops of the EXTD and Group Sampling recipes, on the shared :func:`warp_crop`.

- :class:`DataAnchorSampling` (PyramidBox §3.3, as EXTD/S3FD.pytorch ``anchor_crop_image_sampling``):
  pick a face, rescale the image so that the face takes the size of an anchor scale no larger than
  one step above its own (then x 2^U(-1,1)), and cut a ``size`` window around it.
- :class:`SSDSquareCrop` (``generate_batch_samples`` + ``crop_image``): one full-image sampler and
  four with scale U(0.3, 1); a square patch is accepted when a face lies fully inside it.
- :class:`PyramidBoxAnchorSampling` (PyramidBox / PaddlePaddle ``data_anchor_sampling``, spec families.md
  §4.5 variant A; AInnoFace): the face's scale interval picks a target anchor scale at or below it,
  the face is resized to U(S/2, 2S) (capped at twice its own size at its own interval), and a square
  window of that scale is cut around it.
- :class:`EXTDCrop`: data-anchor-sampling (either variant) with probability 0.5, else the SSD crop
  (EXTD ``preprocess``; AInnoFace with variant A).
- :class:`ScaleJitterCrop` (Group Sampling §5): resize by 0.25·n, n ∈ {1..8}, random ``size`` crop.

Choices and differences from the reference (clovaai/EXTD_Pytorch ``utils/augmentations.py``):

- Crop and resize are one ``warpAffine``; the reference resizes with a random one of 5 PIL
  interpolations, we draw from cv2's linear / cubic / nearest / Lanczos (no INTER_AREA in ``warpAffine``).
- Data-anchor-sampling windows that leave the scaled image are padded with the mean on every side and
  keep the aspect ratio; the reference pads only left / top, cuts what overhangs right / bottom and then
  stretches the rest to 640x640. When no window is accepted we pad the whole scaled image to a square;
  the reference stretches it. Boxes are clipped to the window (``clip_border``); the reference does not
  clip them there.
- Where the reference picks uniformly among up to 50 accepted windows drawn at once, we take the first
  accepted draw: the same distribution, fewer draws. When no SSD sampler finds a window, the whole image
  is resized to the square, as the reference does (aspect not kept).
- Faces whose output width or height is under ``min_size`` (6) become ignore regions; the reference
  drops faces whose area is under 6², so they are background. EXTD's criterion reads ignore regions only
  with ``loss.ignore_iof_thr > 0`` (default -1), so by default they are background here too.
- Crops may hold no face (the reference retries another image); they train as all-background.
- Colour: mmdet-style distortion without the channel swap, on uint8-clipped values: brightness is
  additive ±32 (the reference: PIL factor 1 ± 0.125), hue ±18 degrees (the reference: ±18 of 255 units).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from facedet.data.transforms import Compose, PhotoMetricDistortion, RandomFlip, Sample, Transform, warp_crop
from facedet.ops.boxes import box_iou_np

if TYPE_CHECKING:
    from facedet.config import DataConfig

INTERPOLATIONS = (cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST, cv2.INTER_LANCZOS4)
ANCHOR_SCALES = (16, 32, 64, 128, 256, 512)
GS_SCALES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)  # Group Sampling's jitter: 0.25 * n, n = 1..8


class DataAnchorSampling:
    """PyramidBox data-anchor-sampling producing a ``size`` x ``size`` crop.

    ``ratio = target / sqrt(face area) * 2^U(-1, 1)``, ``target`` uniform over ``scales[: min(i+1, 5) + 1]``
    where ``i`` is the anchor scale nearest to the face (the reference's indexing, which allows one
    scale above the face's own). The image area after scaling is capped at ``max_side^2``. The window
    contains the chosen face when it fits (else starts inside it); it is accepted when some face lies
    fully inside or overlaps it with IoU > 0.7 (up to 50 tries; after that the whole scaled image
    is used, padded). Outside the image: ``fill``.
    """

    def __init__(
        self,
        size: int = 640,
        scales: Sequence[int] = ANCHOR_SCALES,
        fill: Sequence[float] | int = (104, 117, 123),
        clip_border: bool = True,
        min_size: float = 6.0,
        max_side: int = 12000,
        tries: int = 50,
    ) -> None:
        self.size, self.scales = size, np.asarray(scales, np.float64)
        self.fill, self.clip_border, self.min_size = fill, clip_border, min_size
        self.max_side, self.tries = max_side, tries

    def ratio(self, face_side: float, w: int, h: int, rng: np.random.Generator) -> float:
        """The rescaling factor for a face of side ``face_side`` in a ``w x h`` image."""
        idx = int(np.argmin(np.abs(self.scales - face_side)))  # first of ties, as the reference's strict <
        hi = min(idx + 1, len(self.scales) - 1)
        target = float(self.scales[int(rng.integers(0, hi + 1))])
        ratio = target / face_side * 2.0 ** rng.uniform(-1, 1)
        if h * ratio * w * ratio > self.max_side**2:
            ratio = (self.max_side**2 / (h * w)) ** 0.5
        return ratio

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        if len(s.boxes) == 0:
            raise ValueError("data-anchor-sampling needs at least one face")
        h, w = s.image.shape[:2]
        boxes = s.boxes.astype(np.float64)
        j = int(rng.integers(len(boxes)))
        bw, bh = boxes[j, 2] - boxes[j, 0] + 1, boxes[j, 3] - boxes[j, 1] + 1
        ratio = self.ratio(float(np.sqrt(bw * bh)), w, h, rng)
        sb = boxes * ratio
        sw, sh = w * ratio, h * ratio
        x0, y0, fw, fh = sb[j, 0], sb[j, 1], bw * ratio, bh * ratio
        n = self.size
        rect = None
        for _ in range(self.tries):
            if n < max(sw, sh):
                ox = rng.uniform(x0 + fw - n, x0) if fw <= n else rng.uniform(x0, x0 + fw - n)
                oy = rng.uniform(y0 + fh - n, y0) if fh <= n else rng.uniform(y0, y0 + fh - n)
            else:
                ox, oy = rng.uniform(sw - n, 0), rng.uniform(sh - n, 0)
            cand = np.array([np.floor(ox), np.floor(oy), np.floor(ox) + n, np.floor(oy) + n])
            inside = (sb[:, :2] >= cand[:2]).all(1) & (sb[:, 2:] <= cand[2:]).all(1)
            if inside.any() or box_iou_np(sb, cand[None])[:, 0].max() > 0.7:
                rect = cand
                break
        interp = INTERPOLATIONS[int(rng.integers(len(INTERPOLATIONS)))]
        if rect is None:  # no window: the whole scaled image, padded to a square
            side = max(w, h)
            return warp_crop(s, 0, 0, side, side, n, n, self.fill, self.clip_border, interp, self.min_size)
        win = n / ratio
        return warp_crop(s, rect[0] / ratio, rect[1] / ratio, win, win, n, n, self.fill, self.clip_border, interp,
                         self.min_size)


class PyramidBoxAnchorSampling:
    """PyramidBox data-anchor-sampling, the PaddlePaddle reference (variant A), to a ``size`` square.

    For a random face of ``w x h`` pixels and ``scales`` S = 16 .. 512: its interval ``k`` is the index with
    ``S[k-1]² < w·h < S[k]²`` (0 when ``w·h <= S[0]²`` and when the area equals a scale squared, the reference's
    strict comparisons; capped at ``len(S) - 2`` = 4 above ``S[-2]²``); ``i ~ U{0..k}``; the face's target size
    ``t ~ U(S[i] / 2, 2 S[i])``, with the upper end ``min(2 S[k], 2 sqrt(w·h))`` when ``i = k`` (no more than
    twice its own size; for faces under 4 px that end falls below the lower one, and the draw is between the
    two, as Python's ``random.uniform`` in the reference). The window side is ``w · size / t`` original pixels
    (the reference scales by the face *width*), placed so that the face lies inside it (uniform), or anywhere
    over the image when the window is larger than the image. A window is accepted when some face has at least
    ``min_coverage`` of its area inside (10 tries, else the last draw). Outside the image: ``fill``; faces keep
    by centre; those under ``min_size`` px after the resize are dropped.
    """

    def __init__(
        self,
        size: int = 640,
        scales: Sequence[int] = ANCHOR_SCALES,
        fill: Sequence[float] | int = (104, 117, 123),
        clip_border: bool = True,
        min_size: float = 8.0,
        tries: int = 10,
        min_coverage: float = 0.2,
    ) -> None:
        self.size, self.scales = size, np.asarray(scales, np.float64)
        self.fill, self.clip_border, self.min_size = fill, clip_border, min_size
        self.tries, self.min_coverage = tries, min_coverage

    def interval(self, area: float) -> int:
        """The reference's ``range_size`` of a face of ``area`` px²."""
        s2 = self.scales**2
        inside = np.flatnonzero((area > s2[:-1]) & (area < s2[1:]))
        k = int(inside[0]) + 1 if len(inside) else 0
        return len(self.scales) - 2 if area > s2[-2] else k

    def target(self, w: float, h: float, rng: np.random.Generator) -> float:
        """The face's size after the resize, pixels."""
        k = self.interval(w * h)
        i = int(rng.integers(0, k + 1))
        lo, hi = self.scales[i] / 2.0, 2.0 * self.scales[i]
        if i == k:  # a face under 4 px has hi < lo: Python's random.uniform (the reference) draws between them
            hi = min(hi, 2.0 * float(np.sqrt(w * h)))
        return float(lo + (hi - lo) * rng.random())

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        if len(s.boxes) == 0:
            raise ValueError("data-anchor-sampling needs at least one face")
        h, w = s.image.shape[:2]
        boxes = s.boxes.astype(np.float64)
        j = int(rng.integers(len(boxes)))
        x0, y0 = boxes[j, 0], boxes[j, 1]
        fw, fh = boxes[j, 2] - x0, boxes[j, 3] - y0
        side = fw * self.size / self.target(fw, fh, rng)
        areas = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
        for _ in range(self.tries):
            if side < max(w, h):
                ox = rng.uniform(x0 + fw - side, x0) if fw <= side else rng.uniform(x0, x0 + fw - side)
                oy = rng.uniform(y0 + fh - side, y0) if fh <= side else rng.uniform(y0, y0 + fh - side)
            else:
                ox, oy = rng.uniform(w - side, 0.0), rng.uniform(h - side, 0.0)
            ox, oy = float(np.floor(ox)), float(np.floor(oy))
            iw = np.clip(np.minimum(boxes[:, 2], ox + side) - np.maximum(boxes[:, 0], ox), 0, None)
            ih = np.clip(np.minimum(boxes[:, 3], oy + side) - np.maximum(boxes[:, 1], oy), 0, None)
            if np.any(iw * ih >= self.min_coverage * np.maximum(areas, 1e-9)):
                break
        interp = INTERPOLATIONS[int(rng.integers(len(INTERPOLATIONS)))]
        return warp_crop(s, ox, oy, side, side, self.size, self.size, self.fill, self.clip_border, interp,
                         self.min_size)


class SSDSquareCrop:
    """S3FD/EXTD SSD crop: samplers ``(min_scale, max_scale)`` each try ``tries`` windows and keep the
    first one that holds a whole face; one of the kept windows (uniform) is cut and resized to
    ``size``. Window: side ``scale * min(w, h)`` pixels (``use_square``), uniform position inside
    the image. Faces keep when their centre is inside; boxes are clipped."""

    def __init__(
        self,
        size: int = 640,
        samplers: Sequence[tuple[float, float]] = ((1.0, 1.0),) + ((0.3, 1.0),) * 4,
        fill: Sequence[float] | int = (104, 117, 123),
        min_size: float = 6.0,
        tries: int = 50,
    ) -> None:
        self.size, self.samplers = size, tuple(samplers)
        self.fill, self.min_size, self.tries = fill, min_size, tries

    def windows(self, w: int, h: int, boxes: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
        """The accepted window of each sampler that found one, ``[x0, y0, x1, y1]`` in pixels."""
        found = []
        short = min(w, h)
        for lo, hi in self.samplers:
            scale = rng.uniform(lo, hi, self.tries)
            side = scale * short
            x0 = rng.uniform(0, 1, self.tries) * (w - side)
            y0 = rng.uniform(0, 1, self.tries) * (h - side)
            rects = np.stack([x0, y0, x0 + side, y0 + side], 1)
            if len(boxes):
                whole = ((boxes[None, :, :2] >= rects[:, None, :2]).all(-1)
                         & (boxes[None, :, 2:] <= rects[:, None, 2:]).all(-1))
                inside = np.any(whole, axis=1)
            else:
                inside = np.ones(self.tries, bool)
            hit = np.flatnonzero(inside)
            if len(hit):
                found.append(np.floor(rects[hit[0]]))
        return found

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        h, w = s.image.shape[:2]
        found = self.windows(w, h, s.boxes, rng)
        interp = INTERPOLATIONS[int(rng.integers(len(INTERPOLATIONS)))]
        n = self.size
        if not found:
            return warp_crop(s, 0, 0, w, h, n, n, self.fill, True, interp, self.min_size)
        r = found[int(rng.integers(len(found)))]
        return warp_crop(s, r[0], r[1], r[2] - r[0], r[3] - r[1], n, n, self.fill, True, interp, self.min_size)


class EXTDCrop:
    """EXTD ``preprocess``: data-anchor-sampling with probability ``anchor_prob``, else the SSD crop
    (AInnoFace uses it with :class:`PyramidBoxAnchorSampling`)."""

    def __init__(self, anchor: DataAnchorSampling | PyramidBoxAnchorSampling, ssd: SSDSquareCrop,
                 anchor_prob: float = 0.5) -> None:
        self.anchor, self.ssd, self.anchor_prob = anchor, ssd, anchor_prob

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        if len(s.boxes) and rng.random() < self.anchor_prob:
            return self.anchor(s, rng)
        return self.ssd(s, rng)


class ScaleJitterCrop:
    """Group Sampling §5: resize by a factor drawn from ``scales`` (0.25·n, n = 1..8), then a random
    ``size`` x ``size`` window inside the resized image (padded with ``fill`` when it is smaller)."""

    def __init__(
        self,
        size: int = 640,
        scales: Sequence[float] = GS_SCALES,
        fill: Sequence[float] | int = (104, 116, 124),
        min_size: float = 1.0,
    ) -> None:
        self.size, self.scales, self.fill, self.min_size = size, tuple(scales), fill, min_size

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        h, w = s.image.shape[:2]
        f = float(self.scales[int(rng.integers(len(self.scales)))])
        win = self.size / f
        left = rng.uniform(0, w - win) if w > win else 0.0
        top = rng.uniform(0, h - win) if h > win else 0.0
        return warp_crop(s, left, top, win, win, self.size, self.size, self.fill, True, cv2.INTER_LINEAR,
                         self.min_size)


def bgr_fill(mean: Sequence[float] | float, rgb: bool) -> tuple[float, float, float]:
    """The pixel value that normalises to zero, in the BGR order of the images being cropped."""
    m = [float(mean)] * 3 if isinstance(mean, int | float) else [float(v) for v in mean]
    return (m[2], m[1], m[0]) if rgb else (m[0], m[1], m[2])


def extd_train_transforms(data_cfg: DataConfig, mean: Sequence[float] | float = (123, 117, 104),
                          rgb: bool = True, anchor_prob: float = 0.5) -> Compose:
    """EXTD training pipeline: photometric distortion, :class:`EXTDCrop` (data-anchor-sampling with
    ``anchor_prob``, else the SSD crop) to ``input_size``, flip. DSFD / ASFD reuse it with ``anchor_prob=0.4``.

    Fill = the model's mean (pads normalise to zero, as the reference's mean-filled canvas)."""
    fill = bgr_fill(mean, rgb)
    n = data_cfg.input_size
    steps: list[Transform] = []
    if data_cfg.photometric:  # the reference distorts the PIL image before cropping; uint8-clipped here
        steps.append(PhotoMetricDistortion(channel_swap=False, clip_uint8=True))
    steps += [EXTDCrop(DataAnchorSampling(n, fill=fill, clip_border=data_cfg.clip_border),
                       SSDSquareCrop(n, fill=fill), anchor_prob), RandomFlip(data_cfg.flip_prob)]
    return Compose(steps)


def ainnoface_train_transforms(data_cfg: DataConfig, mean: Sequence[float] | float = (123.675, 116.28, 103.53),
                               rgb: bool = True, anchor_prob: float = 0.5) -> Compose:
    """AInnoFace training pipeline: photometric distortion, PyramidBox data-anchor-sampling (variant A)
    with probability ``anchor_prob`` else the SSD square crop, to ``input_size``; flip. [ours] The
    reference's expansion (p 0.5, up to 4x) is left out: data-anchor-sampling already shrinks faces."""
    fill = bgr_fill(mean, rgb)
    n = data_cfg.input_size
    steps: list[Transform] = []
    if data_cfg.photometric:
        steps.append(PhotoMetricDistortion(channel_swap=False, clip_uint8=True))
    steps += [EXTDCrop(PyramidBoxAnchorSampling(n, fill=fill, clip_border=data_cfg.clip_border),
                       SSDSquareCrop(n, fill=fill), anchor_prob), RandomFlip(data_cfg.flip_prob)]
    return Compose(steps)


def gs_train_transforms(data_cfg: DataConfig, mean: Sequence[float] | float = (123.675, 116.28, 103.53),
                        rgb: bool = True) -> Compose:
    """Group Sampling training pipeline: :class:`ScaleJitterCrop` to ``input_size`` and flip (no colour
    augmentation in the paper; ``data.photometric`` adds it)."""
    steps: list[Transform] = [ScaleJitterCrop(data_cfg.input_size, fill=bgr_fill(mean, rgb)),
                              RandomFlip(data_cfg.flip_prob)]
    if data_cfg.photometric:
        steps.append(PhotoMetricDistortion())
    return Compose(steps)
