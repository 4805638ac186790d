"""PAFPN neck of SCRFD: FPN top-down path plus a bottom-up path, no norm, no activation, biased convs.

Names (``lateral_convs``, ``fpn_convs``, ``downsample_convs``, ``pafpn_convs``, each ``.i.conv``)
follow mmdet's ``PAFPN`` so official checkpoints load key for key.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..layers import ConvNormAct


class PAFPN(nn.Module):
    """Path-aggregation FPN over ``len(in_channels)`` levels, all outputs ``out_channels`` wide.

    1. ``L_i = conv1x1(C_i)``; 2. top-down ``L_{i-1} += nearest_up(L_i)``; 3. ``I_i = conv3x3(L_i)``;
    4. bottom-up ``I_{i+1} += conv3x3_s2(I_i)``; 5. ``P_0 = I_0``, ``P_i = conv3x3(I_i)`` for i > 0.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int) -> None:
        super().__init__()
        n = len(in_channels)

        def conv(cin: int, k: int, s: int = 1) -> ConvNormAct:
            return ConvNormAct(cin, out_channels, k, s, k // 2, norm=None, act=False)

        self.lateral_convs = nn.ModuleList(conv(c, 1) for c in in_channels)
        self.fpn_convs = nn.ModuleList(conv(out_channels, 3) for _ in range(n))
        self.downsample_convs = nn.ModuleList(conv(out_channels, 3, 2) for _ in range(n - 1))
        self.pafpn_convs = nn.ModuleList(conv(out_channels, 3) for _ in range(n - 1))
        self.out_channels = out_channels
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        if len(inputs) != len(self.lateral_convs):
            raise ValueError(f"PAFPN expects {len(self.lateral_convs)} feature maps, got {len(inputs)}")
        laterals = [lat(x) for lat, x in zip(self.lateral_convs, inputs, strict=True)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest"
            )
        inter = [fpn(x) for fpn, x in zip(self.fpn_convs, laterals, strict=True)]
        for i, down in enumerate(self.downsample_convs):
            inter[i + 1] = inter[i + 1] + down(inter[i])
        return [inter[0]] + [conv(x) for conv, x in zip(self.pafpn_convs, inter[1:], strict=True)]
