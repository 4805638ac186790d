"""The dual-shot head of DSFD / ASFD: one head per level, applied to BOTH shots (ASFD: "the two shots share
the same head network"; spec families.md §3.1), one anchor per location, softmax face / background.

Per level: a classification and a box branch, each ``head_convs x (3x3 C->C, ReLU)``, then the predictors:
``CosineClassifier`` (DRMC) or a plain 1x1 conv for the classes, a 1x1 conv for the 4 deltas.
Max-in-out (DSFD / lightDSFD ``mio_module``): levels in ``maxout_levels`` predict ``num_bg`` background
logits and one face logit and keep the largest background (S3FD max-out); the other levels predict one
background and ``num_face`` face logits and keep the largest face. Every level returns 2 logits
``[background, face]``; ``num_bg = num_face = 1`` is a plain softmax head.
[ours] Heads are not shared across levels (DSFDv2_r18 keeps one per level); ``head_convs = 0`` puts the
predictors straight on the map.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..layers import MaxOut, flatten_levels
from .cosine import CosineClassifier


def _branch(channels: int, convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for _ in range(convs):
        layers += [nn.Conv2d(channels, channels, 3, 1, 1), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class DualShotHead(nn.Module):
    """``forward(level, x) -> (cls (B, H*W, 2), reg (B, H*W, 4))``; the caller runs it on each shot's map."""

    def __init__(self, channels: int, num_levels: int = 6, head_convs: int = 1, cosine: bool = True,
                 cos_scale: float = 16.0, maxout_levels: Sequence[int] = (0,), num_bg: int = 3,
                 num_face: int = 1) -> None:
        super().__init__()
        if head_convs < 0:
            raise ValueError(f"head_convs must be >= 0, got {head_convs}")
        self.maxout_levels = tuple(maxout_levels)
        self.cls_branch = nn.ModuleList(_branch(channels, head_convs) for _ in range(num_levels))
        self.reg_branch = nn.ModuleList(_branch(channels, head_convs) for _ in range(num_levels))
        if num_bg < 1 or num_face < 1:
            raise ValueError(f"num_bg and num_face must be >= 1, got {num_bg}, {num_face}")
        self.num_face = num_face
        outs = [num_bg + 1 if i in self.maxout_levels else 1 + num_face for i in range(num_levels)]
        self.cls_pred = nn.ModuleList(
            CosineClassifier(channels, k, cos_scale) if cosine else nn.Conv2d(channels, k, 1) for k in outs)
        self.reg_pred = nn.ModuleList(nn.Conv2d(channels, 4, 1) for _ in range(num_levels))
        self.maxout = nn.ModuleList(MaxOut(num_bg if i in self.maxout_levels else 1) for i in range(num_levels))

    def forward(self, level: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cls = self.maxout[level](self.cls_pred[level](self.cls_branch[level](x)))
        if level not in self.maxout_levels and self.num_face > 1:  # max-in: [bg, face_1..k] -> [bg, max face]
            cls = torch.cat([cls[:, :1], cls[:, 1:].amax(dim=1, keepdim=True)], dim=1)
        reg = self.reg_pred[level](self.reg_branch[level](x))
        return flatten_levels(cls, 2), flatten_levels(reg, 4)
