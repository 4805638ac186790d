"""RPN-style anchor heads of the Group Sampling detectors: softmax 2-class scores + 4 box deltas per anchor.

``RPNHead``: 3x3 conv (``feat_channels``) + ReLU, then a 1x1 conv giving ``2A`` logits and a 1x1
conv giving ``4A`` deltas (Faster R-CNN's RPN; paper §6.2 "Complexity Analysis"). With several
levels the 3x3 conv is shared or per level (``share_conv``), the 1x1 predictors always shared.

``DilatedRPNHead`` (FPN-finest-DC, paper Fig. 5, not described in the text): one branch per anchor
scale, a 3x3 conv with dilation ``d`` (default 1, 2, 4, 8 for anchors 16..128, the receptive field
that P2..P5 would give an anchor of that size) + ReLU and its own 1x1 C/R convs. Our design choice
(spec §5.1), documented in the spec; ``feat_channels`` per branch is a setting.

Both give per-level maps ``cls (B, 2A, H, W)`` / ``reg (B, 4A, H, W)`` with channel ``a*2 + c`` /
``a*4 + k``; :func:`~facedet.models.layers.flatten_levels` turns them into ``HeadOutputs`` rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..layers import flatten_levels, normal_init_


def _init_predictor(conv: nn.Module, prior_prob: float | None, num_anchors: int, num_classes: int) -> None:
    """Normal(0, 0.01) weights; optional face prior: logit(face) - logit(bg) = log(p / (1 - p))."""
    normal_init_(conv)
    if prior_prob is not None and num_classes == 2 and isinstance(conv, nn.Conv2d) and conv.bias is not None:
        with torch.no_grad():
            conv.bias.view(num_anchors, num_classes)[:, 1] = math.log(prior_prob / (1 - prior_prob))


class RPNHead(nn.Module):
    """Anchor head over ``num_levels`` maps of ``in_channels``; ``num_anchors`` anchors per location."""

    def __init__(
        self,
        in_channels: int,
        num_anchors: int,
        feat_channels: int = 256,
        num_levels: int = 1,
        share_conv: bool = True,
        num_classes: int = 2,
        prior_prob: float | None = None,
    ) -> None:
        super().__init__()
        self.num_anchors, self.num_classes = num_anchors, num_classes
        n_convs = 1 if share_conv else num_levels
        self.num_levels, self.share_conv = num_levels, share_conv
        self.convs = nn.ModuleList(nn.Conv2d(in_channels, feat_channels, 3, padding=1) for _ in range(n_convs))
        self.relu = nn.ReLU(inplace=True)
        self.cls = nn.Conv2d(feat_channels, num_anchors * num_classes, 1)
        self.reg = nn.Conv2d(feat_channels, num_anchors * 4, 1)
        for conv in self.convs:
            normal_init_(conv)
        _init_predictor(self.cls, prior_prob, num_anchors, num_classes)
        normal_init_(self.reg)

    def forward_maps(self, feats: Sequence[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``[(cls (B, A*C, H, W), reg (B, A*4, H, W))]`` per level."""
        if len(feats) != self.num_levels:
            raise ValueError(f"RPNHead built for {self.num_levels} levels, got {len(feats)}")
        out = []
        for i, f in enumerate(feats):
            t = self.relu(self.convs[0 if self.share_conv else i](f))
            out.append((self.cls(t), self.reg(t)))
        return out

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Flattened ``cls (B, HWA, C)`` and ``reg (B, HWA, 4)`` per level."""
        maps = self.forward_maps(feats)
        return [flatten_levels(c, self.num_classes) for c, _ in maps], [flatten_levels(r, 4) for _, r in maps]


class DilatedRPNHead(nn.Module):
    """FPN-finest-DC head on one map: branch ``a`` = 3x3 conv dilation ``dilations[a]`` + C/R 1x1 convs."""

    def __init__(
        self,
        in_channels: int,
        dilations: Sequence[int] = (1, 2, 4, 8),
        feat_channels: int = 256,
        num_classes: int = 2,
        prior_prob: float | None = None,
    ) -> None:
        super().__init__()
        self.dilations = tuple(int(d) for d in dilations)
        self.num_anchors, self.num_classes, self.num_levels = len(self.dilations), num_classes, 1
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels, feat_channels, 3, padding=d, dilation=d) for d in self.dilations
        )
        self.relu = nn.ReLU(inplace=True)
        self.cls = nn.ModuleList(nn.Conv2d(feat_channels, num_classes, 1) for _ in self.dilations)
        self.reg = nn.ModuleList(nn.Conv2d(feat_channels, 4, 1) for _ in self.dilations)
        for conv in self.convs:
            normal_init_(conv)
        for c, r in zip(self.cls, self.reg, strict=True):
            _init_predictor(c, prior_prob, 1, num_classes)
            normal_init_(r)

    def forward_maps(self, feats: Sequence[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if len(feats) != 1:
            raise ValueError(f"DilatedRPNHead works on one feature map, got {len(feats)}")
        f = feats[0]
        cls, reg = [], []
        for conv, c, r in zip(self.convs, self.cls, self.reg, strict=True):
            t = self.relu(conv(f))
            cls.append(c(t))
            reg.append(r(t))
        return [(torch.cat(cls, dim=1), torch.cat(reg, dim=1))]  # channel a*C + c, as RPNHead

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        (c, r), = self.forward_maps(feats)
        return [flatten_levels(c, self.num_classes)], [flatten_levels(r, 4)]
