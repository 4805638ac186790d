"""MobileNetV1 backbone of SCRFD-500M/1G: a conv stem and four stages of depthwise-separable blocks.

Module layout (``stem.0``, ``stem.1``, ``layer1..4`` as ``nn.Sequential``) mirrors insightface's
``mmdet/models/backbones/mobilenet.py`` so official state dicts load key for key.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..layers import kaiming_init_


def conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    """Conv3x3(stride) without bias -> BN -> ReLU."""
    return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup), nn.ReLU(inplace=True))


def conv_dw(inp: int, oup: int, stride: int) -> nn.Sequential:
    """Depthwise 3x3(stride) -> BN -> ReLU -> pointwise 1x1 -> BN -> ReLU, no biases."""
    return nn.Sequential(
        nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False),
        nn.BatchNorm2d(inp),
        nn.ReLU(inplace=True),
        nn.Conv2d(inp, oup, 1, 1, 0, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True),
    )


class MobileNetV1(nn.Module):
    """MobileNetV1 with searched widths; returns the 4 stage outputs (strides 4, 8, 16, 32).

    ``stage_planes`` = (p0..p5): stem conv 3->p0 (stride 2), dw-sep p0->p1, then stage k starts with
    a stride-2 dw-sep p[k+1]->p[k+2] followed by ``stage_blocks[k]-1`` stride-1 blocks.
    """

    def __init__(self, stage_planes: Sequence[int], stage_blocks: Sequence[int], in_channels: int = 3) -> None:
        super().__init__()
        if len(stage_planes) != 6 or len(stage_blocks) != 4:
            raise ValueError("MobileNetV1 needs 6 stage_planes and 4 stage_blocks")
        p = list(stage_planes)
        self.stem = nn.Sequential(conv_bn(in_channels, p[0], 2), conv_dw(p[0], p[1], 1))
        for i, n in enumerate(stage_blocks):
            blocks = [conv_dw(p[i + 1], p[i + 2], 2)] + [conv_dw(p[i + 2], p[i + 2], 1) for _ in range(n - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*blocks))
        self.out_channels = tuple(p[2:])
        kaiming_init_(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.stem(x)
        outs = []
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(self, name)(x)
            outs.append(x)
        return tuple(outs)
