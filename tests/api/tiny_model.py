"""A tiny SCRFD-layout network for API tests (no dependency on the real presets)."""

from __future__ import annotations

import torch
from torch import nn

from facedet.coders import DistanceCoder
from facedet.families.scrfd import SCRFD_ANCHOR_SIZES
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid


class TinySCRFD(nn.Module):
    strides = (8, 16, 32)
    num_anchors = 2
    family = "scrfd"
    preset = None
    input_mean, input_std, input_rgb = 127.5, 128.0, True
    anchors = AnchorGrid(strides, SCRFD_ANCHOR_SIZES)
    coder = DistanceCoder()

    def __init__(self, has_kps: bool = True, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.has_kps = has_kps
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, 2, 1), nn.ReLU())
        self.downs = nn.ModuleList([nn.Conv2d(8, 8, 3, 2, 1) for _ in range(3)])
        self.cls = nn.Conv2d(8, 2, 3, 1, 1)
        self.reg = nn.Conv2d(8, 8, 3, 1, 1)
        self.kps = nn.Conv2d(8, 20, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> HeadOutputs:
        f = self.stem(x)
        cls, reg, kps, sizes = [], [], [], []
        for down in self.downs:
            f = down(f)
            b, _, h, w = f.shape
            sizes.append((h, w))
            cls.append(self.cls(f).permute(0, 2, 3, 1).reshape(b, -1, 1))
            reg.append(self.reg(f).exp().permute(0, 2, 3, 1).reshape(b, -1, 4))
            kps.append(self.kps(f).permute(0, 2, 3, 1).reshape(b, -1, 10))
        return HeadOutputs(cls, reg, kps if self.has_kps else None, sizes)
