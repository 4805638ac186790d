"""SRN's head (ChiCheng123/SRN ``resnet_srn.py``; spec families.md §4.1): one classification and one box
subnet, shared by every level AND both steps, each ``3x3 -> ReLU -> RFE -> 3x3 -> ReLU``, then 1x1
predictors (A sigmoid logits, 4A deltas).

RFE (receptive field enrichment): four branches ``1x1 C->C/4 -> ReLU -> {1x5 | 5x1 | 1x3 | 3x1} -> ReLU
-> 1x1 -> ReLU``, concatenated, ``1x1 C->C -> ReLU``, plus the input (residual).

Max-out (S3FD; AInnoFace applies it to the stride-4 level): the levels listed in ``maxout_levels`` get
``num_bg`` extra background logits per anchor from their own 1x1 conv beside the shared face logit;
the head returns the single logit ``z_face - max(z_bg)``, which under a sigmoid is the softmax over
{max background, face}. [ours] The extra conv is per level (the shared predictor keeps its A outputs).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..layers import flatten_levels


def _branch(channels: int, inter: int, kernel: tuple[int, int]) -> nn.Sequential:
    pad = (kernel[0] // 2, kernel[1] // 2)
    return nn.Sequential(nn.Conv2d(channels, inter, 1), nn.ReLU(inplace=True),
                         nn.Conv2d(inter, inter, kernel, 1, pad), nn.ReLU(inplace=True),
                         nn.Conv2d(inter, inter, 1), nn.ReLU(inplace=True))


class RFE(nn.Module):
    """Receptive field enrichment block (residual; ``channels`` divisible by 4)."""

    KERNELS = ((1, 5), (5, 1), (1, 3), (3, 1))

    def __init__(self, channels: int = 256) -> None:
        super().__init__()
        if channels % 4:
            raise ValueError(f"RFE needs channels divisible by 4, got {channels}")
        self.branches = nn.ModuleList(_branch(channels, channels // 4, k) for k in self.KERNELS)
        self.fuse = nn.Sequential(nn.Conv2d(channels, channels, 1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([b(x) for b in self.branches], dim=1)) + x


def _subnet(channels: int, rfe: bool) -> nn.Sequential:
    mid: list[nn.Module] = [RFE(channels)] if rfe else []
    return nn.Sequential(nn.Conv2d(channels, channels, 3, 1, 1), nn.ReLU(inplace=True), *mid,
                         nn.Conv2d(channels, channels, 3, 1, 1), nn.ReLU(inplace=True))


class SRNHead(nn.Module):
    """``forward(level_index, x) -> (cls (B, H*W*A, 1), reg (B, H*W*A, 4))`` for one map of either step."""

    def __init__(self, channels: int = 256, num_anchors: int = 2, rfe: bool = True,
                 maxout_levels: Sequence[int] = (), num_bg: int = 3) -> None:
        super().__init__()
        self.num_anchors, self.num_bg = num_anchors, num_bg
        self.cls_subnet = _subnet(channels, rfe)
        self.box_subnet = _subnet(channels, rfe)
        self.cls_pred = nn.Conv2d(channels, num_anchors, 1)
        self.box_pred = nn.Conv2d(channels, num_anchors * 4, 1)
        self.maxout_levels = tuple(int(i) for i in maxout_levels) if num_bg > 0 else ()
        self.bg_pred = nn.ModuleDict({str(i): nn.Conv2d(channels, num_anchors * num_bg, 1)
                                      for i in self.maxout_levels})

    def predictors(self) -> list[nn.Conv2d]:
        """The 1x1 output convs (face logits, deltas, max-out background logits)."""
        return [self.cls_pred, self.box_pred, *self.bg_pred.values()]  # type: ignore[list-item]

    def forward(self, level: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.cls_subnet(x)
        logit = self.cls_pred(c)
        if level in self.maxout_levels:
            b, _, h, w = logit.shape
            bg = self.bg_pred[str(level)](c).reshape(b, self.num_anchors, self.num_bg, h, w).amax(dim=2)
            logit = logit - bg
        return flatten_levels(logit, 1), flatten_levels(self.box_pred(self.box_subnet(x)), 4)
