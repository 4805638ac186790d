"""DSFD's feature enhance module (spec families.md §2.1; DSFD's baseline for ASFD's AutoFEM).

On ``L`` maps of ``C`` channels, coarsest first::

    t_L = ReLU(lat_L(f_L));  t_i = ReLU(up_bilinear(ReLU(top_i(t_{i+1})) -> f_i) * lat_i(f_i))   (product)
    out_i = ReLU(concat(b1(t_i), b2(t_i), b3(t_i)))   b_k = k dilated 3x3 convs (dilation 3), C/3 channels each

``lat_i`` and ``top_i`` are 1x1 convs (DSFD's ``latlayer`` and ``fpn_topdown``); the three branches split
``C`` as ``floor(C/3), floor(C/3), C - 2 floor(C/3)``.
[ours] Every level has the same width ``C`` (ASFD's laterals bring all six maps to it), so the block is
``C -> C``; DSFD's VGG version keeps each map's own width.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def _branch(c_in: int, c_out: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(convs):
        layers.append(nn.Conv2d(c_in if k == 0 else c_out, c_out, 3, 1, 3, dilation=3))
        if k < convs - 1:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class DilatedBlock(nn.Module):
    """The FEM's three dilated branches (1, 2 and 3 convs), concatenated, ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        third = channels // 3
        widths = (third, third, channels - 2 * third)
        self.branches = nn.ModuleList(_branch(channels, w, k + 1) for k, w in enumerate(widths))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(torch.cat([b(x) for b in self.branches], dim=1))


class DSFDFEM(nn.Module):
    """``forward(maps) -> enhanced maps`` (same count, sizes and ``channels``); see the module docstring."""

    def __init__(self, channels: int, num_levels: int = 6) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in range(num_levels))
        self.topdown = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in range(num_levels - 1))
        self.blocks = nn.ModuleList(DilatedBlock(channels) for _ in range(num_levels))

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        n = len(self.lateral)
        if len(feats) != n:
            raise ValueError(f"DSFD FEM built for {n} levels got {len(feats)} maps")
        top: list[torch.Tensor] = [F.relu(self.lateral[-1](feats[-1]))] * n
        for i in range(n - 2, -1, -1):
            x = F.relu(self.topdown[i](top[i + 1]))
            up = F.interpolate(x, size=feats[i].shape[-2:], mode="bilinear", align_corners=False)
            top[i] = F.relu(up * self.lateral[i](feats[i]))
        return [blk(t) for blk, t in zip(self.blocks, top, strict=True)]
