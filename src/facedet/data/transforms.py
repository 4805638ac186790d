"""SCRFD training augmentations (specs/scrfd.md §2.2) on numpy samples.

Pipeline: RandomSquareCrop (the paper's sample redistribution) -> Resize to a square side ->
RandomFlip (landmarks re-ordered [1,0,2,4,3]) -> PhotoMetricDistortion (unclipped floats) ->
Normalize. Every random draw comes from the ``numpy.random.Generator`` passed in, so a sample is
a pure function of (record, seed), which is what makes resumed runs bit-exact.

Choice: crop and resize are done in one ``cv2.warpAffine`` on the uint8 image (bilinear,
border value = fill), instead of padding a float canvas of up to 2x the image and resizing it;
the geometry is the same and it is several times faster on large WIDER images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from facedet.config import SCRFD_CROP_CHOICE

FLIP_ORDER = (1, 0, 2, 4, 3)  # swap eyes, swap mouth corners

if TYPE_CHECKING:
    from ..config import DataConfig


@dataclass
class Sample:
    """One training image and its annotations in that image's pixel coordinates."""

    image: np.ndarray  # HxWx3, uint8 before photometric distortion, float32 after
    boxes: np.ndarray  # (N, 4) float32 xyxy
    landmarks: np.ndarray | None = None  # (N, 5, 2) float32
    landmark_valid: np.ndarray | None = None  # (N,) bool
    ignore: np.ndarray | None = None  # (M, 4) float32


Transform = Callable[[Sample, np.random.Generator], Sample]


def _centre_inside(boxes: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    return (cx > x0) & (cy > y0) & (cx < x1) & (cy < y1)


def _offset(length: int, side: int, rng: np.random.Generator) -> int:
    """Crop origin as mmdet draws it: ``randint(0, L - side)`` or ``randint(L - side, 0)`` (exclusive)."""
    if length == side:
        return 0
    return int(rng.integers(0, length - side)) if length > side else int(rng.integers(length - side, 0))


def warp_crop(
    s: Sample,
    left: float,
    top: float,
    win_w: float,
    win_h: float,
    out_w: int,
    out_h: int,
    fill: int | Sequence[float] = 128,
    clip_border: bool = True,
    interpolation: int = cv2.INTER_LINEAR,
    min_size: float = 0.0,
) -> Sample:
    """Crop the window ``(left, top, left + win_w, top + win_h)`` (it may leave the image: the outside
    is ``fill``) and resize it to ``out_w x out_h`` in one ``cv2.warpAffine``.

    Faces (and ignore regions) whose centre is not strictly inside the window are dropped; with
    ``clip_border`` boxes and keypoints are clipped to it; faces whose output width or height is
    below ``min_size`` are dropped. Shared by every family's crop (SCRFD, EXTD, Group Sampling).
    """
    fx, fy = out_w / win_w, out_h / win_h
    mat = np.array([[fx, 0, -left * fx], [0, fy, -top * fy]], dtype=np.float64)
    border = tuple(float(v) for v in fill) if isinstance(fill, Sequence) else (float(fill),) * 3
    image = cv2.warpAffine(s.image, mat, (out_w, out_h), flags=interpolation, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=border)
    right, bottom = left + win_w, top + win_h
    keep = _centre_inside(s.boxes, left, top, right, bottom)
    origin = np.array([left, top], np.float32)
    scale = np.array([fx, fy], np.float32)
    limit = np.array([win_w, win_h], np.float32)

    def move(b: np.ndarray) -> np.ndarray:
        b = b - np.tile(origin, 2)
        if clip_border:
            b = np.clip(b, 0, np.tile(limit, 2))
        return (b * np.tile(scale, 2)).astype(np.float32)

    boxes = move(s.boxes[keep])
    lms = s.landmarks
    if lms is not None:
        lms = lms[keep] - origin
        if clip_border:
            lms = np.clip(lms, 0, limit)
        lms = (lms * scale).astype(np.float32)
    valid = s.landmark_valid[keep] if s.landmark_valid is not None else None
    ignore = None
    if s.ignore is not None and len(s.ignore):
        ignore = move(s.ignore[_centre_inside(s.ignore, left, top, right, bottom)])
    if min_size > 0 and len(boxes):
        big = ((boxes[:, 2:] - boxes[:, :2]) >= min_size).all(1)
        if not big.all():
            small = boxes[~big]
            ignore = small if ignore is None else np.concatenate([ignore, small])
            boxes = boxes[big]
            lms = lms[big] if lms is not None else None
            valid = valid[big] if valid is not None else None
    return Sample(image, boxes, lms, valid, ignore)


class RandomSquareCrop:
    """Square crop of side ``scale * min(w, h)``, scale drawn from ``crop_choice``, resized to ``size``.

    A crop is accepted when at least one gt centre lies strictly inside it (up to 250 tries per
    scale; when every scale is <= 1 the scale grows by 1.2 after a failed round). Faces whose
    centre falls outside are dropped; with ``clip_border`` boxes and keypoints are clipped.
    """

    def __init__(
        self,
        size: int = 640,
        crop_choice: Sequence[float] = SCRFD_CROP_CHOICE,
        fill: int = 128,
        clip_border: bool = True,
        max_tries: int = 250,
    ) -> None:
        self.size = size
        self.crop_choice = tuple(crop_choice)
        self.fill = fill
        self.clip_border = clip_border
        self.max_tries = max_tries

    def _pick(self, w: int, h: int, boxes: np.ndarray, rng: np.random.Generator) -> tuple[int, int, int]:
        scale = float(rng.choice(self.crop_choice))
        for _ in range(50):
            side = max(int(scale * min(w, h)), 1)
            for _ in range(self.max_tries):
                left = _offset(w, side, rng)
                top = _offset(h, side, rng)
                if len(boxes) == 0 or _centre_inside(boxes, left, top, left + side, top + side).any():
                    return left, top, side
            if max(self.crop_choice) <= 1:
                scale *= 1.2
            else:
                scale = float(rng.choice(self.crop_choice))
        side = max(w, h)  # give up: the whole image, padded to a square
        return 0, 0, side

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        h, w = s.image.shape[:2]
        left, top, side = self._pick(w, h, s.boxes, rng)
        return warp_crop(s, left, top, side, side, self.size, self.size, self.fill, self.clip_border)


class WholeImage:
    """The whole image, long side scaled to ``size`` and padded to a ``size x size`` square (bottom and right,
    with ``fill``); no randomness. For memorisation checks (``benchmarks/prove_overfit.py --fixed``), where
    every step must show the network the same views that it is then evaluated on."""

    def __init__(self, size: int = 640, fill: int | Sequence[float] = 128) -> None:
        self.size, self.fill = size, fill

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        h, w = s.image.shape[:2]
        side = float(max(h, w))
        return warp_crop(s, 0.0, 0.0, side, side, self.size, self.size, self.fill, clip_border=True)


class RandomFlip:
    """Horizontal flip with probability ``p``; landmark order is swapped left/right."""

    def __init__(self, p: float = 0.5, order: Sequence[int] = FLIP_ORDER) -> None:
        self.p = p
        self.order = list(order)

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        if rng.random() >= self.p:
            return s
        w = s.image.shape[1]
        image = np.ascontiguousarray(s.image[:, ::-1])
        boxes = s.boxes.copy()
        boxes[:, [0, 2]] = w - s.boxes[:, [2, 0]]
        lms = s.landmarks
        if lms is not None:
            lms = lms[:, self.order].copy()
            lms[..., 0] = w - lms[..., 0]
        ignore = s.ignore
        if ignore is not None and len(ignore):
            ignore = ignore.copy()
            ignore[:, [0, 2]] = w - ignore[:, [2, 0]]
        return replace(s, image=image, boxes=boxes, landmarks=lms, ignore=ignore)


class PhotoMetricDistortion:
    """mmdet's PhotoMetricDistortion on BGR float32, unclipped; each step has probability 0.5
    (``channel_swap=False`` drops the random channel permutation, which S3FD/EXTD do not have;
    ``clip_uint8=True`` returns uint8 clipped to 0..255, as PIL's enhancers do there)."""

    def __init__(
        self,
        brightness_delta: float = 32,
        contrast_range: tuple[float, float] = (0.5, 1.5),
        saturation_range: tuple[float, float] = (0.5, 1.5),
        hue_delta: float = 18,
        channel_swap: bool = True,
        clip_uint8: bool = False,
    ) -> None:
        self.channel_swap, self.clip_uint8 = channel_swap, clip_uint8
        self.brightness_delta = brightness_delta
        self.contrast_range = contrast_range
        self.saturation_range = saturation_range
        self.hue_delta = hue_delta

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        img: np.ndarray = s.image.astype(np.float32)
        if rng.integers(2):
            img += rng.uniform(-self.brightness_delta, self.brightness_delta)
        contrast_first = bool(rng.integers(2))
        if contrast_first and rng.integers(2):
            img *= rng.uniform(*self.contrast_range)
        do_sat, do_hue = bool(rng.integers(2)), bool(rng.integers(2))
        if do_sat or do_hue:
            hsv: np.ndarray = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
            if do_sat:
                hsv[..., 1] *= rng.uniform(*self.saturation_range)
            if do_hue:
                hsv[..., 0] = np.mod(hsv[..., 0] + rng.uniform(-self.hue_delta, self.hue_delta), 360.0)
            img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        if not contrast_first and rng.integers(2):
            img *= rng.uniform(*self.contrast_range)
        if self.channel_swap and rng.integers(2):
            img = np.ascontiguousarray(img[..., rng.permutation(3)])
        if self.clip_uint8:
            img = np.clip(img, 0, 255).astype(np.uint8)
        return replace(s, image=img)


class Compose:
    """Apply transforms in order with one shared generator."""

    def __init__(self, transforms: Sequence[Transform]) -> None:
        self.transforms = list(transforms)

    def __call__(self, s: Sample, rng: np.random.Generator) -> Sample:
        for t in self.transforms:
            s = t(s, rng)
        return s


def normalize(image: np.ndarray, mean: float | Sequence[float], std: float | Sequence[float],
              to_rgb: bool) -> np.ndarray:
    """BGR HxWx3 -> float32 CxHxW ``(x - mean) / std``, channels reversed when ``to_rgb``."""
    img = image[..., ::-1] if to_rgb else image
    m, sd = np.asarray(mean, np.float32), np.asarray(std, np.float32)  # float32 even for per-channel tuples
    return np.ascontiguousarray(((img.astype(np.float32) - m) / sd).transpose(2, 0, 1))


def scrfd_train_transforms(data_cfg: DataConfig) -> Compose:
    """The SCRFD training pipeline from a ``DataConfig`` (normalisation is done by the dataset)."""
    steps: list[Transform] = [
        RandomSquareCrop(data_cfg.input_size, data_cfg.crop_choice, data_cfg.crop_fill, data_cfg.clip_border),
        RandomFlip(data_cfg.flip_prob),
    ]
    if data_cfg.photometric:
        steps.append(PhotoMetricDistortion())
    return Compose(steps)
