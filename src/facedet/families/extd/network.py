"""EXTD detector: one shared inverted-residual group applied repeatedly to build every pyramid level.

Wiring (clovaai/EXTD_Pytorch ``EXTD_*.forward``; spec families.md §1.1)::

    x  = entry(stem(img))                     # stride 2, ``stem_channels`` -> ``width``
    s1 = S(x); s2 = S(s1); ... ; s6 = S(s5)   # S = the SAME block group each time, stride x2 per pass
    FPN: u_k = up_k(bilinear(u_{k-1} -> size(s_j))) + s_j, top-down from s6; sources [u5..u1, s6]
    SSD: sources [s1 .. s6]

Heads are unshared 3x3 convs with bias per source. The finest classification head predicts
``maxout_bg`` background logits + 1 face logit and keeps the max background (S3FD max-out); all
levels then give 2 logits (column 0 background, column 1 face; softmax at test time).

The SSD-variant wiring is not in the official repository: heads sit directly on ``s1 .. s6`` (our
reading of the paper, spec §1.1); the FPN variant is the released one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ...coders import DeltaCoder
from ...models.layers import MaxOut, flatten_levels
from ...models.outputs import HeadOutputs
from ...priors import AnchorGrid
from .blocks import ActKind, DepthwiseEntry, InvertedResidual, Stem, UpBlock

# (expansion, stride) of the shared group; the last block halves the resolution.
GROUP_48_64: tuple[tuple[int, int], ...] = ((2, 1), (2, 1), (4, 1), (4, 2))
GROUP_32: tuple[tuple[int, int], ...] = ((2, 1), (2, 1), (4, 1), (4, 1), (2, 1), (2, 2))


class EXTD(nn.Module):
    """EXTD face detector; ``forward(images) -> HeadOutputs`` (raw logits and SSD-encoded offsets).

    Args:
        width: channels of every pyramid level (32 / 48 / 64 released).
        neck: ``"fpn"`` (released) or ``"ssd"`` (heads on the reused features directly).
        act: ``"prelu"`` (released), ``"leaky"`` (slope 0.25) or ``"relu"``; replaces every backbone
            activation; the FPN up-blocks keep ReLU as in the official code.
        group: ``(expansion, stride)`` per block of the shared group; default chosen by ``width``
            as the releases do (6 blocks for 32 channels, 4 otherwise).
        project_act: activation after each projection BN; default ``width == 32`` (official).
        stem_channels: stem output width (64 in every release, independent of ``width``).
        num_levels: pyramid levels = passes through the shared group (6).
        anchor_sizes: square anchor side per level, pixels (4 x stride); centres at cell centres
            (offset 0.5, S3FD), one anchor per location: ``self.anchors``.
        maxout_bg: background logits of the finest head reduced by max (S3FD max-out; 1 disables).

    Input: ``(B, 3, H, W)`` float, RGB, ``x - input_mean`` (no scaling), as the official test script.
    """

    family = "extd"
    preset: str | None = None
    has_kps = False
    num_anchors = 1
    input_mean: tuple[float, float, float] = (123.0, 117.0, 104.0)  # RGB order (official BGR 104,117,123)
    input_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    input_rgb = True
    coder = DeltaCoder((0.1, 0.2))  # SSD variances, no clamp (official ``decode``)

    def __init__(
        self,
        width: int = 64,
        neck: str = "fpn",
        act: ActKind = "prelu",
        group: Sequence[tuple[int, int]] | None = None,
        project_act: bool | None = None,
        stem_channels: int = 64,
        num_levels: int = 6,
        anchor_sizes: Sequence[float] | None = None,
        maxout_bg: int = 3,
        num_classes: int = 2,
    ) -> None:
        super().__init__()
        if neck not in ("fpn", "ssd"):
            raise ValueError(f"neck must be 'fpn' or 'ssd', got {neck!r}")
        group = tuple(group) if group is not None else (GROUP_32 if width == 32 else GROUP_48_64)
        if [s for _, s in group] != [1] * (len(group) - 1) + [2]:
            raise ValueError(f"shared group must end with the only stride-2 block, got {group}")
        if project_act is None:
            project_act = width == 32
        self.width, self.neck, self.act = width, neck, act
        self.num_classes = num_classes
        self.maxout_bg = maxout_bg
        self.strides = tuple(4 * 2**i for i in range(num_levels))
        sizes = tuple(anchor_sizes) if anchor_sizes is not None else tuple(4 * s for s in self.strides)
        if len(sizes) != num_levels:
            raise ValueError(f"{len(sizes)} anchor sizes for {num_levels} levels")
        self.anchors = AnchorGrid(self.strides, tuple((float(a),) for a in sizes), offsets=(0.5,))

        self.stem = Stem(3, stem_channels, act)
        self.entry = DepthwiseEntry(stem_channels, width, act, project_act)
        self.group = nn.ModuleList(InvertedResidual(width, t, s, act, project_act) for t, s in group)
        self.upfeat = nn.ModuleList(UpBlock(width) for _ in range(num_levels - 1)) if neck == "fpn" else None
        self.loc = nn.ModuleList(nn.Conv2d(width, 4, 3, 1, 1) for _ in range(num_levels))
        conf_out = [maxout_bg + num_classes - 1] + [num_classes] * (num_levels - 1)
        self.conf = nn.ModuleList(nn.Conv2d(width, c, 3, 1, 1) for c in conf_out)
        self.maxout = MaxOut(maxout_bg)
        self.init_weights()

    def init_weights(self) -> None:
        """Official from-scratch init: Xavier-uniform convs with zero bias in backbone and heads.

        The FPN up-blocks keep PyTorch's default init (the official ``train.py`` never touches them).
        """
        for part in (self.stem, self.entry, self.group, self.loc, self.conf):
            for m in part.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)

    def shared_pass(self, x: torch.Tensor) -> torch.Tensor:
        """One application of the shared block group (halves the resolution)."""
        for block in self.group:
            x = block(x)
        return x

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Detection sources, finest first (strides 4 .. 128)."""
        x = self.entry(self.stem(images))
        levels = []
        for _ in range(len(self.strides)):
            x = self.shared_pass(x)
            levels.append(x)
        if self.upfeat is None:
            return levels
        u = levels[-1]
        sources = [u]
        for up, lateral in zip(self.upfeat, reversed(levels[:-1]), strict=True):
            u = up(F.interpolate(u, size=lateral.shape[-2:], mode="bilinear", align_corners=False)) + lateral
            sources.append(u)
        return sources[::-1]

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        sources = self.features(images)
        cls, reg, sizes = [], [], []
        for i, feat in enumerate(sources):
            c = self.conf[i](feat)
            if i == 0:
                c = self.maxout(c)
            cls.append(flatten_levels(c, self.num_classes))
            reg.append(flatten_levels(self.loc[i](feat), 4))
            sizes.append((feat.shape[2], feat.shape[3]))
        return HeadOutputs(cls=cls, reg=reg, kps=None, feat_sizes=sizes)
