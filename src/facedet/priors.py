"""Priors: anchor centre grids and square anchor boxes per pyramid level, shared by every family.

Row order is location-major (y, then x) then anchor, the layout of ``HeadOutputs`` rows.
``offset`` is where the centre sits inside a cell in stride units: 0.0 for SCRFD / mmdet 2.x
(top-left corner, ``center_offset=0``), 0.5 for S3FD/SSD-style priors (cell centre).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


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
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Torch version of :func:`grid_points_np`."""
    h, w = feat_size
    ys = torch.arange(h, device=device, dtype=dtype)
    xs = torch.arange(w, device=device, dtype=dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    pts = (torch.stack([xx, yy], dim=-1).reshape(-1, 2) + offset) * stride
    if num_anchors > 1:
        pts = pts.repeat_interleave(num_anchors, dim=0)
    return pts


def square_anchors(
    feat_size: tuple[int, int],
    stride: int,
    sizes: Sequence[float],
    offset: float = 0.0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Square anchor boxes ``(H*W*len(sizes), 4)`` xyxy centred on the grid points."""
    pts = grid_points(feat_size, stride, len(sizes), offset, device)
    half = torch.as_tensor(sizes, dtype=pts.dtype, device=pts.device).repeat(feat_size[0] * feat_size[1]) / 2
    return torch.cat([pts - half[:, None], pts + half[:, None]], dim=1)


def feat_sizes_for(input_hw: tuple[int, int], strides: Sequence[int]) -> list[tuple[int, int]]:
    """Feature-map sizes of a stride-``s`` conv net (ceil division, as padded convs give)."""
    h, w = input_hw
    return [(-(-h // s), -(-w // s)) for s in strides]
