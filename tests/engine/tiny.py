"""A tiny SCRFD-layout detector (strides 8/16/32, 2 anchors) for fast engine tests."""

from __future__ import annotations

import torch
from torch import nn

from facedet.coders import DistanceCoder
from facedet.families.scrfd import SCRFD_ANCHOR_SIZES
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid


def _flatten(x: torch.Tensor, per_anchor: int) -> torch.Tensor:
    b, _, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, h * w * (x.shape[1] // per_anchor), per_anchor)


class TinyDet(nn.Module):
    """Five stride-2 convs and per-level 3x3 predictors; returns :class:`HeadOutputs` like SCRFD."""

    family = "scrfd"
    preset = None
    strides = (8, 16, 32)
    num_anchors = 2
    anchors = AnchorGrid(strides, SCRFD_ANCHOR_SIZES)
    coder = DistanceCoder()
    input_mean = 127.5
    input_std = 128.0
    input_rgb = True

    def __init__(self, width: int = 16, kps: bool = False) -> None:
        super().__init__()
        self.has_kps = kps

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        self.stem = nn.Sequential(block(3, width // 2), block(width // 2, width), block(width, width))
        self.down16 = block(width, width)
        self.down32 = block(width, width)
        a = self.num_anchors
        self.cls = nn.ModuleList(nn.Conv2d(width, a, 3, 1, 1) for _ in self.strides)
        self.reg = nn.ModuleList(nn.Conv2d(width, 4 * a, 3, 1, 1) for _ in self.strides)
        self.kps = nn.ModuleList(nn.Conv2d(width, 10 * a, 3, 1, 1) for _ in self.strides) if kps else None
        for conv in self.cls:
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.constant_(conv.bias, -4.595)
        for conv in self.reg:
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.constant_(conv.bias, 1.0)

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        f8 = self.stem(images)
        f16 = self.down16(f8)
        f32 = self.down32(f16)
        feats = [f8, f16, f32]
        cls = [_flatten(h(f), 1) for h, f in zip(self.cls, feats, strict=True)]
        reg = [_flatten(h(f), 4) for h, f in zip(self.reg, feats, strict=True)]
        kps = [_flatten(h(f), 10) for h, f in zip(self.kps, feats, strict=True)] if self.kps is not None else None
        return HeadOutputs(cls, reg, kps, [(int(f.shape[2]), int(f.shape[3])) for f in feats])


class _Neck(nn.Module):
    """Per-level 1x1 convolutions over a list of maps (what the hint loss reads)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(cin, cout, 1) for _ in range(3))

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        return [c(f) for c, f in zip(self.convs, feats, strict=True)]


class NeckDet(TinyDet):
    """TinyDet with a neck of ``out`` channels between its maps and its predictors."""

    def __init__(self, out: int = 16) -> None:
        super().__init__(width=16)
        self.neck = _Neck(16, out)
        self.cls = nn.ModuleList(nn.Conv2d(out, 2, 3, 1, 1) for _ in self.strides)
        self.reg = nn.ModuleList(nn.Conv2d(out, 8, 3, 1, 1) for _ in self.strides)

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        f8 = self.stem(images)
        f16 = self.down16(f8)
        feats = self.neck([f8, f16, self.down32(f16)])
        cls = [c(f).permute(0, 2, 3, 1).reshape(f.shape[0], -1, 1) for c, f in zip(self.cls, feats, strict=True)]
        reg = [r(f).exp().permute(0, 2, 3, 1).reshape(f.shape[0], -1, 4) for r, f in zip(self.reg, feats, strict=True)]
        return HeadOutputs(cls, reg, None, [(int(f.shape[2]), int(f.shape[3])) for f in feats])
