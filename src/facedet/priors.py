"""Priors: anchor grids and point grids per pyramid level, owned by the detector, shared by every family.

Row order is location-major (y, then x), then anchor, the layout of ``HeadOutputs`` rows; inside a
location the anchors go size-major, ratio-minor (detectron2's ``DefaultAnchorGenerator`` order).
``offset`` is where a centre sits inside a cell in stride units: 0.0 for SCRFD / mmdet 2.x
(``center_offset=0``), 0.5 for S3FD/SSD-style priors (cell centre), ``0.5 / k`` for Group Sampling's
maps sub-sampled by ``k``. An anchor of size ``s`` and ratio ``r = h / w`` keeps the area ``s²``:
``w = s / sqrt(r)``, ``h = s * sqrt(r)`` (DSFD's ``prior_box.py``, torchvision, detectron2).

:class:`AnchorGrid` is what a detector carries as ``model.anchors``: the criterion, the
post-processor and the ONNX export read it there, and :meth:`AnchorGrid.describe` /
:meth:`AnchorGrid.from_description` carry it through ONNX metadata. :class:`PointGrid` is the
anchor-free view (centres only) that distance decoding needs, e.g. for an insightface SCRFD file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
else:
    from .lazy import torch

FeatSizes = tuple[tuple[int, int], ...]


def grid_points_np(
    feat_size: tuple[int, int], stride: int, num_anchors: int = 1, offset: float = 0.0
) -> np.ndarray:
    """Centres ``(H*W*A, 2)`` float32 in input pixels, each repeated ``num_anchors`` times."""
    h, w = feat_size
    ys, xs = np.mgrid[:h, :w]
    pts = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32)
    pts = (pts + offset) * stride
    if num_anchors > 1:
        pts = np.repeat(pts, num_anchors, axis=0)
    return pts


def grid_points(
    feat_size: tuple[int, int],
    stride: int,
    num_anchors: int = 1,
    offset: float = 0.0,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Torch version of :func:`grid_points_np` (``dtype`` float32 by default)."""
    dtype = torch.float32 if dtype is None else dtype
    h, w = feat_size
    ys = torch.arange(h, device=device, dtype=dtype)
    xs = torch.arange(w, device=device, dtype=dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    pts = (torch.stack([xx, yy], dim=-1).reshape(-1, 2) + offset) * stride
    if num_anchors > 1:
        pts = pts.repeat_interleave(num_anchors, dim=0)
    return pts


def _half_extents(sizes: Sequence[float], ratios: Sequence[float]) -> list[tuple[float, float]]:
    """``(w / 2, h / 2)`` per anchor of one location, size-major then ratio (area ``s²``, ``h / w = r``)."""
    out = []
    for s in sizes:
        for r in ratios:
            q = math.sqrt(r)
            out.append((float(s) / q / 2, float(s) * q / 2))
    return out


def level_anchors(
    feat_size: tuple[int, int],
    stride: int,
    sizes: Sequence[float],
    ratios: Sequence[float] = (1.0,),
    offset: float = 0.0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Anchor boxes ``(H*W*len(sizes)*len(ratios), 4)`` xyxy centred on the grid points of one level."""
    half = _half_extents(sizes, ratios)
    pts = grid_points(feat_size, stride, len(half), offset, device)
    hw = torch.tensor(half, dtype=pts.dtype, device=pts.device).repeat(feat_size[0] * feat_size[1], 1)
    return torch.cat([pts - hw, pts + hw], dim=1)


def level_anchors_np(
    feat_size: tuple[int, int], stride: int, sizes: Sequence[float], ratios: Sequence[float] = (1.0,),
    offset: float = 0.0,
) -> np.ndarray:
    """Numpy version of :func:`level_anchors` (float32; no torch needed on the ONNX Runtime path)."""
    half = _half_extents(sizes, ratios)
    pts = grid_points_np(feat_size, stride, len(half), offset)
    hw = np.tile(np.asarray(half, np.float32), (feat_size[0] * feat_size[1], 1))
    return np.concatenate([pts - hw, pts + hw], axis=1)


def square_anchors(
    feat_size: tuple[int, int],
    stride: int,
    sizes: Sequence[float],
    offset: float = 0.0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Square anchor boxes ``(H*W*len(sizes), 4)`` xyxy centred on the grid points."""
    return level_anchors(feat_size, stride, sizes, (1.0,), offset, device)


def feat_sizes_for(input_hw: tuple[int, int], strides: Sequence[int]) -> list[tuple[int, int]]:
    """Feature-map sizes of a stride-``s`` conv net (ceil division, as padded convs give)."""
    h, w = input_hw
    return [(-(-h // s), -(-w // s)) for s in strides]


def _key(feat_sizes: Sequence[tuple[int, int]]) -> FeatSizes:
    return tuple((int(h), int(w)) for h, w in feat_sizes)


@dataclass(frozen=True)
class PointGrid:
    """Centres per level (``per_location`` copies each): the priors of distance (anchor-free) decoding."""

    strides: tuple[int, ...]
    per_location: int = 1
    offset: float = 0.0

    def points_np(self, feat_sizes: Sequence[tuple[int, int]]) -> list[np.ndarray]:
        """Per level ``(H*W*A, 2)`` float32 centres (cached per feature size)."""
        return list(_points_np(self, _key(feat_sizes)))

    def points(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device | str | None = None
               ) -> list[torch.Tensor]:
        """Torch twin of :meth:`points_np`, on ``device`` (cached per feature size and device)."""
        return list(_points_torch(self, _key(feat_sizes), str(torch.device(device or "cpu"))))


@dataclass(frozen=True)
class AnchorGrid:
    """Anchors of a detector: per-level ``strides``, ``sizes`` (one tuple per level), aspect ``ratios``
    (h / w, the same on every level) and ``offsets`` (one per level, or one for all).

    ``boxes`` / ``boxes_np`` give every anchor ``(A, 4)`` xyxy in ``HeadOutputs`` row order (cached
    per feature-map sizes and device); ``level_index``, ``counts`` and ``anchor_sizes`` tell which
    level and size each row has (ATSS per-level top-k, STC/STR level split, GS scale groups).
    """

    strides: tuple[int, ...]
    sizes: tuple[tuple[float, ...], ...]
    ratios: tuple[float, ...] = (1.0,)
    offsets: tuple[float, ...] = (0.0,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "strides", tuple(int(s) for s in self.strides))
        object.__setattr__(self, "sizes", tuple(tuple(float(v) for v in lv) for lv in self.sizes))
        object.__setattr__(self, "ratios", tuple(float(r) for r in self.ratios))
        offsets = tuple(float(o) for o in self.offsets)
        if len(offsets) == 1 and len(self.strides) > 1:
            offsets = offsets * len(self.strides)
        object.__setattr__(self, "offsets", offsets)
        if not (len(self.strides) == len(self.sizes) == len(self.offsets)):
            raise ValueError(f"AnchorGrid: {len(self.strides)} strides, {len(self.sizes)} size groups and "
                             f"{len(self.offsets)} offsets must agree")
        if not self.ratios or any(r <= 0 for r in self.ratios) or any(not lv for lv in self.sizes):
            raise ValueError(f"AnchorGrid: need positive ratios and at least one size per level, got "
                             f"ratios {self.ratios}, sizes {self.sizes}")

    @property
    def num_levels(self) -> int:
        return len(self.strides)

    def per_location(self, level: int) -> int:
        """Anchors per feature-map location on ``level``."""
        return len(self.sizes[level]) * len(self.ratios)

    def points(self) -> PointGrid:
        """The centre grid (for distance decoding); needs the same count and offset on every level."""
        counts = {self.per_location(i) for i in range(self.num_levels)}
        if len(counts) != 1 or len(set(self.offsets)) != 1:
            raise ValueError("AnchorGrid.points: levels differ in anchors per location or offset")
        return PointGrid(self.strides, counts.pop(), self.offsets[0])

    def counts(self, feat_sizes: Sequence[tuple[int, int]]) -> list[int]:
        """Anchors per level."""
        return [h * w * self.per_location(i) for i, (h, w) in enumerate(_key(feat_sizes))]

    def boxes(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device | str | None = None
              ) -> torch.Tensor:
        """Every anchor ``(A, 4)`` xyxy float32, levels concatenated finest first (cached)."""
        return _boxes_torch(self, _key(feat_sizes), str(torch.device(device or "cpu")))

    def boxes_np(self, feat_sizes: Sequence[tuple[int, int]]) -> np.ndarray:
        """Numpy twin of :meth:`boxes` (cached; do not modify the returned array)."""
        return _boxes_np(self, _key(feat_sizes))

    def level_index(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device | str | None = None
                    ) -> torch.Tensor:
        """Level of every anchor ``(A,)`` long."""
        counts = torch.tensor(self.counts(feat_sizes), device=device)
        return torch.repeat_interleave(torch.arange(self.num_levels, device=device), counts)

    def anchor_sizes(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device | str | None = None
                     ) -> torch.Tensor:
        """Size ``s`` (the square root of the area) of every anchor ``(A,)`` float32."""
        parts = []
        for i, (h, w) in enumerate(_key(feat_sizes)):
            per = torch.tensor([s for s in self.sizes[i] for _ in self.ratios], dtype=torch.float32, device=device)
            parts.append(per.repeat(h * w))
        return torch.cat(parts)

    def strides_per_anchor(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device | str | None = None
                           ) -> torch.Tensor:
        """Stride of every anchor's level ``(A,)`` float32."""
        strides = torch.tensor(self.strides, dtype=torch.float32, device=device)
        return strides[self.level_index(feat_sizes, device)]

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description (the ONNX metadata ``facedet.anchors``)."""
        return {"type": "anchor_grid", "strides": list(self.strides), "sizes": [list(s) for s in self.sizes],
                "ratios": list(self.ratios), "offsets": list(self.offsets)}

    @classmethod
    def from_description(cls, d: dict[str, Any]) -> AnchorGrid:
        """Inverse of :meth:`describe`; ValueError for anything else."""
        if d.get("type") != "anchor_grid":
            raise ValueError(f"not an anchor-grid description: {d!r}")
        return cls(tuple(d["strides"]), tuple(tuple(s) for s in d["sizes"]), tuple(d["ratios"]),
                   tuple(d["offsets"]))


# Caches live outside the frozen dataclasses; tensors are made outside inference mode so that a grid
# first built for detection can later enter autograd (training) without an "inference tensor" error.

@lru_cache(maxsize=64)
def _boxes_torch(grid: AnchorGrid, feat_sizes: FeatSizes, device: str) -> torch.Tensor:
    with torch.inference_mode(False), torch.no_grad():
        parts = [level_anchors(fs, st, sz, grid.ratios, off, device)
                 for fs, st, sz, off in zip(feat_sizes, grid.strides, grid.sizes, grid.offsets, strict=True)]
        return torch.cat(parts) if parts else torch.zeros((0, 4), device=device)


@lru_cache(maxsize=64)
def _boxes_np(grid: AnchorGrid, feat_sizes: FeatSizes) -> np.ndarray:
    parts = [level_anchors_np(fs, st, sz, grid.ratios, off)
             for fs, st, sz, off in zip(feat_sizes, grid.strides, grid.sizes, grid.offsets, strict=True)]
    out = np.concatenate(parts) if parts else np.zeros((0, 4), np.float32)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def _points_np(grid: PointGrid, feat_sizes: FeatSizes) -> tuple[np.ndarray, ...]:
    if len(feat_sizes) != len(grid.strides):
        raise ValueError(f"{len(feat_sizes)} feature maps for {len(grid.strides)} strides")
    return tuple(grid_points_np(fs, st, grid.per_location, grid.offset)
                 for fs, st in zip(feat_sizes, grid.strides, strict=True))


@lru_cache(maxsize=64)
def _points_torch(grid: PointGrid, feat_sizes: FeatSizes, device: str) -> tuple[torch.Tensor, ...]:
    if len(feat_sizes) != len(grid.strides):
        raise ValueError(f"{len(feat_sizes)} feature maps for {len(grid.strides)} strides")
    with torch.inference_mode(False), torch.no_grad():
        return tuple(grid_points(fs, st, grid.per_location, grid.offset, device)
                     for fs, st in zip(feat_sizes, grid.strides, strict=True))
