"""ResNet-v1e backbone of SCRFD-2.5G/10G/34G: deep 3-conv stem, 2x2 max-pool, avg-pool downsampling.

Module names (``stem.{0..8}``, ``layerK.J.conv1/bn1``, ``downsample.{0,1,2}``) follow mmdet's
``ResNet``/``ResLayer`` so official checkpoints load key for key. Zero-init-residual as mmdet.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..layers import kaiming_init_


class BasicBlock(nn.Module):
    """conv3x3(stride)-BN-ReLU, conv3x3-BN, + shortcut, ReLU."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)  # after the branch, as mmdet
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1-BN-ReLU, 3x3(stride)-BN-ReLU, 1x1(x4)-BN, + shortcut, ReLU ("pytorch" style)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def last_norm(self) -> nn.BatchNorm2d:
        return self.bn3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def _downsample(inplanes: int, outplanes: int, stride: int) -> nn.Sequential:
    """Avg-down shortcut: AvgPool(s, s, ceil, no pad count), conv1x1, BN.

    The pool is there even when s == 1 (a no-op 1x1 pool: only SCRFD-34G's first stage, which
    widens 56 -> 224), as in the insightface fork's ``ResLayer`` (``if avg_down:``, no stride test;
    spec §1.3 says "only when stride != 1", the code disagrees). It keeps the checkpoint keys
    ``downsample.1`` / ``downsample.2`` and adds 1.08 M MACs to mmcv's count for 34G.
    """
    return nn.Sequential(
        nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
        nn.Conv2d(inplanes, outplanes, 1, 1, bias=False),
        nn.BatchNorm2d(outplanes),
    )


class ResNetV1e(nn.Module):
    """ResNet with deep stem (3 -> b/2 -> b/2 -> b), 2x2/s2 max-pool, stage strides (1, 2, 2, 2).

    ``stage_planes[k]`` is the block width of stage k (outputs ``planes * block.expansion``).
    Returns the 4 stage outputs at strides 4, 8, 16, 32.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        stage_blocks: Sequence[int],
        stage_planes: Sequence[int],
        base_channels: int,
        in_channels: int = 3,
        zero_init_residual: bool = True,
    ) -> None:
        super().__init__()
        if len(stage_blocks) != 4 or len(stage_planes) != 4:
            raise ValueError("ResNetV1e needs 4 stage_blocks and 4 stage_planes")
        half = base_channels // 2
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, half, 3, 2, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            nn.Conv2d(half, half, 3, 1, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            nn.Conv2d(half, base_channels, 3, 1, 1, bias=False), nn.BatchNorm2d(base_channels),
            nn.ReLU(inplace=True),
        )
        self.maxpool = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        inplanes = base_channels
        out_channels = []
        for i, (n, planes) in enumerate(zip(stage_blocks, stage_planes, strict=True)):
            stride = 1 if i == 0 else 2
            outplanes = planes * block.expansion
            down = _downsample(inplanes, outplanes, stride) if stride != 1 or inplanes != outplanes else None
            blocks = [block(inplanes, planes, stride, down)]
            blocks += [block(outplanes, planes) for _ in range(n - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
            inplanes = outplanes
            out_channels.append(outplanes)
        self.out_channels = tuple(out_channels)
        kaiming_init_(self)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.last_norm.weight)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool(self.stem(x))
        outs = []
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(self, name)(x)
            outs.append(x)
        return tuple(outs)
