"""EXTD building blocks: activation factory, inverted-residual blocks, FPN up-sampling block.

Layout follows clovaai/EXTD_Pytorch (``mobileFacenet_*_PReLU.py``, ``EXTD_*.py``) so the official
checkpoints load through a plain name mapping (``facedet.convert.extd``):

- every depthwise 3x3 conv inside the backbone carries a bias (as in the official code), the 1x1
  convs do not;
- the projection BN is followed by an activation only in the 32-channel release
  (``project_act=True``: non-linear bottleneck), the 48/64 releases keep a linear bottleneck.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

ActKind = Literal["prelu", "leaky", "relu"]
LEAKY_SLOPE = 0.25  # paper: equal to PReLU's initial slope


def make_act(kind: ActKind) -> nn.Module:
    """PReLU (one shared slope, init 0.25), LeakyReLU(0.25) or ReLU."""
    if kind == "prelu":
        return nn.PReLU()
    if kind == "leaky":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if kind == "relu":
        return nn.ReLU()
    raise ValueError(f"unknown activation {kind!r} (expected 'prelu', 'leaky' or 'relu')")


class Stem(nn.Module):
    """3x3 stride-2 conv (no bias) -> BN -> act; official ``base.0``."""

    def __init__(self, in_channels: int, out_channels: int, act: ActKind) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, 2, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = make_act(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DepthwiseEntry(nn.Module):
    """Expansion-1 inverted residual (official ``base.1``): 3x3 dw (bias) -> BN -> act -> 1x1 -> BN [-> act].

    Residual iff input and output widths match (only the 64-channel release).
    """

    def __init__(self, in_channels: int, out_channels: int, act: ActKind, project_act: bool) -> None:
        super().__init__()
        self.dw = nn.Conv2d(in_channels, in_channels, 3, 1, 1, groups=in_channels, bias=True)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.act1 = make_act(act)
        self.pw = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.act2 = make_act(act) if project_act else nn.Identity()
        self.residual = in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act2(self.bn2(self.pw(self.act1(self.bn1(self.dw(x))))))
        return x + y if self.residual else y


class InvertedResidual(nn.Module):
    """MobileNetV2 block ``C -> tC -> C``: 1x1 -> BN -> act -> 3x3 dw stride s (bias) -> BN -> act -> 1x1 -> BN.

    ``project_act`` appends an activation after the projection BN (32-channel release).
    Residual add iff stride 1 (input and output widths are always equal inside the shared group).
    """

    def __init__(self, channels: int, expansion: int, stride: int, act: ActKind, project_act: bool) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        hidden = channels * expansion
        self.expand = nn.Conv2d(channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.act1 = make_act(act)
        self.dw = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=True)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.act2 = make_act(act)
        self.project = nn.Conv2d(hidden, channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)
        self.act3 = make_act(act) if project_act else nn.Identity()
        self.residual = stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act2(self.bn2(self.dw(self.act1(self.bn1(self.expand(x))))))
        y = self.act3(self.bn3(self.project(y)))
        return x + y if self.residual else y


class UpBlock(nn.Module):
    """FPN lateral refinement (official ``upfeat.k``): 3x3 dw (no bias) -> 1x1 (no bias) -> BN -> ReLU.

    The official code keeps plain ReLU here for every activation variant.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(channels, channels, 3, 1, 1, groups=channels, bias=False)
        self.pw = nn.Conv2d(channels, channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.pw(self.dw(x))))
