"""Feature Pyramid Network (Lin et al. 2017) with top-down lateral connections, as in Group Sampling §3.

Each C_k gets a 1x1 lateral conv to ``out_channels``; going down from the coarsest level, the
running map is upsampled x2 (bilinear by default, the paper's choice; size-matched so odd sizes
work) and added to the lateral of the finer level. ``levels`` picks which P_k are returned (P2 is
C2's level, stride 4): laterals are only built from the finest requested level upward, so a
P3-only detector carries no C2 lateral. ``output_convs=True`` adds the independent 3x3 conv per
level of the original FPN (the Group Sampling FPN baseline puts that conv in its head instead).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class FPN(nn.Module):
    """Top-down FPN over inputs C_{first}..C_5; returns ``[P_l for l in levels]`` (finest first).

    ``in_channels``: channels of the backbone outputs, finest first; ``first_level``: pyramid index
    of ``in_channels[0]`` (2 for C2 of a ResNet).
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int = 256,
        levels: Sequence[int] = (2, 3, 4, 5),
        first_level: int = 2,
        upsample: str = "bilinear",
        output_convs: bool = False,
    ) -> None:
        super().__init__()
        top = first_level + len(in_channels) - 1
        levels = tuple(sorted(int(lv) for lv in levels))
        if not levels or levels[0] < first_level or levels[-1] > top:
            raise ValueError(f"FPN levels {levels} outside the inputs' levels {first_level}..{top}")
        if upsample not in ("bilinear", "nearest"):
            raise ValueError(f"upsample must be 'bilinear' or 'nearest', got {upsample!r}")
        self.levels, self.first_level, self.upsample = levels, first_level, upsample
        self.start = levels[0] - first_level  # index of the finest input used
        self.out_channels = out_channels
        self.lateral_convs = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in in_channels[self.start:])
        self.output_convs = (
            nn.ModuleList(nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in levels) if output_convs else None
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        feats = list(feats)[self.start:]
        if len(feats) != len(self.lateral_convs):
            n = len(self.lateral_convs) + self.start
            raise ValueError(f"FPN expects {n} inputs, got {len(feats) + self.start}")
        x = self.lateral_convs[-1](feats[-1])
        outs = [x]
        kwargs = {"align_corners": False} if self.upsample == "bilinear" else {}
        for conv, f in zip(reversed(self.lateral_convs[:-1]), reversed(feats[:-1]), strict=True):
            x = conv(f) + F.interpolate(x, size=f.shape[-2:], mode=self.upsample, **kwargs)
            outs.append(x)
        outs.reverse()  # finest first: P_{levels[0]} ...
        first = self.levels[0]
        picked = [outs[lv - first] for lv in self.levels]
        if self.output_convs is not None:
            picked = [conv(p) for conv, p in zip(self.output_convs, picked, strict=True)]
        return picked
