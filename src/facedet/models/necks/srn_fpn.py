"""SRN's two source sets (ChiCheng123/SRN ``resnet_srn.py``; spec families.md §4.1): first-step 1x1
sources on C2..C7 and a top-down FPN P2..P7 for the second step.

    first step:  c_k_r = Conv1x1(C_k -> channels) (bias), k = 2..7
    second step: l_k = Conv1x1(C_k -> channels), k = 2..5;  sum_5 = l_5, sum_k = up(sum_{k+1}) + l_k
                 P_k = Conv3x3(sum_k), k = 2..5;  P6 = Conv3x3/2(l_5);  P7 = Conv3x3/2(P6)

``up`` resizes to the lateral's exact size (bilinear, ``align_corners=False``, as the code's
``F.upsample``), so odd input sizes work. No activation anywhere (the code has none, P6 -> P7 included).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class SRNFPN(nn.Module):
    """``forward((C2..C7)) -> (first-step sources, second-step P2..P7)``, each six ``channels``-wide maps.

    ``in_channels``: channels of C2..C7; ``interpolation``: ``"bilinear"`` (SRN's config) or ``"nearest"``.
    """

    def __init__(self, in_channels: Sequence[int], channels: int = 256, interpolation: str = "bilinear") -> None:
        super().__init__()
        if len(in_channels) != 6:
            raise ValueError(f"SRNFPN takes C2..C7 (6 maps), got {len(in_channels)} channel counts")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.interpolation = interpolation
        self.first = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels)
        self.lateral = nn.ModuleList(nn.Conv2d(c, channels, 1) for c in in_channels[:4])
        self.smooth = nn.ModuleList(nn.Conv2d(channels, channels, 3, 1, 1) for _ in range(4))
        self.p6 = nn.Conv2d(channels, channels, 3, 2, 1)
        self.p7 = nn.Conv2d(channels, channels, 3, 2, 1)

    def _up_add(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.interpolation == "nearest":
            return F.interpolate(x, size=y.shape[-2:], mode="nearest") + y
        return F.interpolate(x, size=y.shape[-2:], mode="bilinear", align_corners=False) + y

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        first = [conv(f) for conv, f in zip(self.first, feats, strict=True)]
        lat = [conv(f) for conv, f in zip(self.lateral, feats[:4], strict=True)]
        sums = [lat[3]]
        for lateral in reversed(lat[:3]):
            sums.append(self._up_add(sums[-1], lateral))
        sums = sums[::-1]  # sum_2 .. sum_5
        second = [conv(s) for conv, s in zip(self.smooth, sums, strict=True)]
        p6 = self.p6(lat[3])
        second += [p6, self.p7(p6)]
        return first, second
