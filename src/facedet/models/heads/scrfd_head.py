"""SCRFD head: a conv tower feeding 3x3 cls / reg (/ kps) predictors, shared across strides or not.

Shared mode (GN, one set of modules run on every level, per-level learnable ``Scale`` on reg) and
per-stride mode (BN, one set per stride, the ``_kps`` models) as insightface's ``SCRFDHead`` with
``cls_reg_share=True``. Names (``cls_stride_convs[key]``, ``stride_cls``, ``stride_reg``,
``stride_kps``, ``scales.i.scale``) match mmdet checkpoints; per-stride keys are ``"(8, 8)"``,
``"(16, 16)"``, ``"(32, 32)"`` (``str`` of mmdet's anchor-generator stride pairs, as the official
exports' initializer names show), the shared key is ``"0"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..layers import ConvNormAct, DepthwiseSeparableConv, NormKind, Scale, flatten_levels

CLS_BIAS_INIT = -4.595  # insightface's constant: sigmoid(-4.595) ~= 0.01 prior probability


class SCRFDHead(nn.Module):
    """Head over ``len(strides)`` levels returning flattened cls logits, scaled reg, raw kps.

    ``dw_conv`` builds the tower from depthwise-separable modules (MobileNet models);
    ``use_scale`` multiplies the reg output of level i by a learnable scalar (init 1.0).
    """

    def __init__(
        self,
        in_channels: int,
        feat_channels: int,
        stacked_convs: int = 2,
        norm: NormKind = "gn",
        gn_groups: int = 16,
        shared: bool = True,
        use_scale: bool = True,
        dw_conv: bool = False,
        use_kps: bool = False,
        strides: Sequence[int] = (8, 16, 32),
        num_anchors: int = 2,
        num_classes: int = 1,
        num_keypoints: int = 5,
    ) -> None:
        super().__init__()
        self.strides = tuple(strides)
        self.num_anchors = num_anchors
        self.num_classes = num_classes
        self.num_keypoints = num_keypoints
        self.shared = shared
        self.use_kps = use_kps
        self.dw_conv = dw_conv
        keys = ["0"] if shared else [self.level_key(i) for i in range(len(self.strides))]
        self.cls_stride_convs = nn.ModuleDict()
        self.stride_cls = nn.ModuleDict()
        self.stride_reg = nn.ModuleDict()
        self.stride_kps = nn.ModuleDict() if use_kps else None
        for key in keys:
            tower = nn.ModuleList()
            for i in range(stacked_convs):
                cin = in_channels if i == 0 else feat_channels
                if dw_conv:
                    tower.append(DepthwiseSeparableConv(cin, feat_channels, 3, 1, 1, norm=norm, gn_groups=gn_groups))
                else:
                    tower.append(ConvNormAct(cin, feat_channels, 3, 1, 1, norm=norm, gn_groups=gn_groups))
            self.cls_stride_convs[key] = tower
            self.stride_cls[key] = nn.Conv2d(feat_channels, num_classes * num_anchors, 3, padding=1)
            self.stride_reg[key] = nn.Conv2d(feat_channels, 4 * num_anchors, 3, padding=1)
            if self.stride_kps is not None:
                self.stride_kps[key] = nn.Conv2d(feat_channels, 2 * num_keypoints * num_anchors, 3, padding=1)
        self.scales = nn.ModuleList(Scale(1.0) for _ in self.strides) if use_scale else None
        self.init_weights()

    def level_key(self, level: int) -> str:
        """ModuleDict key of the modules used on ``level``."""
        s = self.strides[level]
        return "0" if self.shared else str((s, s))

    def init_weights(self) -> None:
        """Every conv N(0, 0.01) with zero bias, cls bias -4.595; norms (1, 0) (insightface init)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0.0, 0.01)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for conv in self.stride_cls.values():
            if isinstance(conv, nn.Conv2d) and conv.bias is not None:
                nn.init.constant_(conv.bias, CLS_BIAS_INIT)

    def forward_level(
        self, x: torch.Tensor, level: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One level: tower, then cls (B,HWA,C) logits, reg (B,HWA,4), kps (B,HWA,2K) or None."""
        key = self.level_key(level)
        feat = x
        tower = self.cls_stride_convs[key]
        assert isinstance(tower, nn.ModuleList)
        for conv in tower:
            feat = conv(feat)
        cls = self.stride_cls[key](feat)
        reg = self.stride_reg[key](feat)
        if self.scales is not None:
            reg = self.scales[level](reg)
        kps = self.stride_kps[key](feat) if self.stride_kps is not None else None
        return (
            flatten_levels(cls, self.num_classes),
            flatten_levels(reg, 4),
            flatten_levels(kps, 2 * self.num_keypoints) if kps is not None else None,
        )

    def forward(
        self, feats: Sequence[torch.Tensor]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor], list[torch.Tensor] | None]:
        if len(feats) != len(self.strides):
            raise ValueError(f"SCRFDHead expects {len(self.strides)} levels, got {len(feats)}")
        cls, reg, kps = [], [], []
        for i, x in enumerate(feats):
            c, r, k = self.forward_level(x, i)
            cls.append(c)
            reg.append(r)
            if k is not None:
                kps.append(k)
        return cls, reg, (kps if self.use_kps else None)
