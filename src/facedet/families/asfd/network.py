"""ASFD detector (spec families.md §3.1, §3.6–3.7; DSFD's dual shot, §2.1), the network of ``asfd_d0`` … ``asfd_d6``.

    C2..C5 = backbone (MobileNetV1 or ResNet);  C6, C7 = extra layers (1x1 -> BN -> ReLU -> 3x3/2 -> BN -> ReLU)
    laterals: 1x1 conv (bias) -> BN -> ReLU, all six maps to C  ==  the first shot's maps ("original")
    enhance: AutoFEM (genotype: AutoFEM-FPN cells, then CPM cells) or DSFD's FEM  ==  the second shot's maps
    one DualShotHead (per level) run on both shots; cosine classifier (DRMC) or plain 1x1

``forward -> HeadOutputs(second shot, aux = first shot)`` when ``aux`` (training); with ``aux=False`` (the
presets, evaluation, export) the second shot only, as ASFD drops the first at test. The first shot has no
weights of its own (the head is shared), so the two builds hold the same state dict and the training
criterion switches ``model.aux`` on (``recipe.criterion``).
Anchors: one per location, h / w = 1.5; second shot ``anchor_scale x stride`` (16 … 512), the first
shot half of it (DSFD's progressive anchor loss). Coder: SSD deltas with variances (0.1, 0.2), the size
deltas clamped at log(1000/16) before ``exp`` (as the DIoU loss decodes them; an untrained head otherwise
overflows to infinite boxes).

Choices [ours] (the method section was withdrawn; spec §3.8), each a field of :class:`ASFDConfig`:
- Laterals are DSFDv2_r18's ``BasicConv2d``; the first shot uses them, so both shots have ``C`` channels
  and one head serves both (the paper's shared head).
- Extra layers as DSFDv2_r18 (1x1 to 128, 3x3 stride 2 to 256; ``extra_channels``).
- Input: torchvision ImageNet mean / std, RGB (the backbones are torchvision ImageNet classifiers).
- Init: Kaiming (fan_out) for new convs, zero biases; backbone: its own, or ``model.init=<torchvision .pth>``.
- Max-in-out as lightDSFD's DSFDv2 config: 3 background logits on the stride-4 level, 3 face logits on the
  others (``maxout_levels``, ``maxout_bg``, ``maxin_face``).
- No pyramid anchors (head / body): only the face branch is built (the released DSFD's pyramid anchors are in
  ``dsfd.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ...coders import DETECTRON_MAX_LOG_WH, DeltaCoder
from ...models.backbones.mobilenet import MobileNetV1
from ...models.backbones.resnet_classic import ResNet
from ...models.heads.dual_shot import DualShotHead
from ...models.layers import kaiming_init_
from ...models.necks.autofem import AutoFEM, Genotype
from ...models.necks.dsfd_fem import DSFDFEM
from ...models.outputs import HeadOutputs, run_levels
from ...priors import AnchorGrid
from .genotypes import ASFD_GENOTYPE

STRIDES = (4, 8, 16, 32, 64, 128)
FEMS = ("autofem", "dsfd", "none")


@dataclass(frozen=True)
class ASFDConfig:
    """Architecture knobs (see the module docstring); ``presets.py`` holds one row per D0–D6 model.

    ``backbone``: ``"resnet"`` (``depth``, ``widths``) or ``"mobilenet"`` (``mobilenet_planes`` /
    ``mobilenet_blocks``, MobileNetV1). ``fem``: ``"autofem"`` (``genotype``, ``fpn_repeats``, ``cpm_channels``),
    ``"dsfd"`` (DSFD's FEM) or ``"none"``. ``cosine``: DRMC's large-margin cosine classifier at scale
    ``cos_scale`` (the margin is a loss setting). ``maxout_levels`` / ``maxout_bg`` / ``maxin_face``: the
    max-in-out. ``aux``: run the first shot (training).
    """

    backbone: str = "resnet"
    depth: int = 18
    widths: tuple[int, int, int, int] = (64, 128, 256, 512)
    mobilenet_planes: tuple[int, ...] = (8, 16, 32, 64, 128, 256)
    mobilenet_blocks: tuple[int, ...] = (2, 2, 6, 2)
    channels: int = 128
    extra_channels: tuple[int, int] = (128, 256)
    fem: str = "autofem"
    genotype: Genotype = field(default=ASFD_GENOTYPE)
    fpn_repeats: int = 1
    cpm_channels: int | None = None
    head_convs: int = 1
    cosine: bool = True
    cos_scale: float = 16.0
    maxout_levels: tuple[int, ...] = (0,)
    maxout_bg: int = 3
    maxin_face: int = 3
    anchor_scale: float = 4.0
    anchor_ratio: float = 1.5
    aux: bool = True
    freeze_bn: bool = False


def _lateral(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


def _extra(c_in: int, mid: int, out: int) -> nn.Sequential:
    """DSFDv2_r18's ``BasicConv2d`` pair: 1x1 -> BN -> ReLU, 3x3 stride 2 -> BN -> ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, mid, 1), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                         nn.Conv2d(mid, out, 3, 2, 1), nn.BatchNorm2d(out), nn.ReLU(inplace=True))


class ASFD(nn.Module):
    """Backbone + extra layers + laterals + AutoFEM + dual-shot head; ``forward(images) -> HeadOutputs``."""

    family = "asfd"
    preset: str | None = None
    has_kps = False
    coder = DeltaCoder(max_log_wh=DETECTRON_MAX_LOG_WH)  # SSD variances; sizes clamped at log(1000/16) [ours]
    input_mean = (123.675, 116.28, 103.53)
    input_std = (58.395, 57.12, 57.375)
    input_rgb = True

    def __init__(self, config: ASFDConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or ASFDConfig()
        self.aux = c.aux  # the first shot has no weights of its own (shared head): the recipe may switch it on
        if c.fem not in FEMS:
            raise ValueError(f"fem must be one of {FEMS}, got {c.fem!r}")
        if any(i not in range(len(STRIDES)) for i in c.maxout_levels):
            raise ValueError(f"maxout_levels must be level indices 0..5, got {c.maxout_levels}")
        if c.backbone == "resnet":
            self.backbone: nn.Module = ResNet(c.depth, c.widths, freeze_bn=c.freeze_bn)
        elif c.backbone == "mobilenet":
            self.backbone = MobileNetV1(c.mobilenet_planes, c.mobilenet_blocks)
        else:
            raise ValueError(f"backbone must be 'resnet' or 'mobilenet', got {c.backbone!r}")
        outs = tuple(self.backbone.out_channels)
        mid, ext = c.extra_channels
        self.extra = nn.ModuleList([_extra(outs[-1], mid, ext), _extra(ext, mid, ext)])
        self.lateral = nn.ModuleList(_lateral(ch, c.channels) for ch in (*outs, ext, ext))
        if c.fem == "autofem":
            if c.genotype.num_levels != len(STRIDES):
                raise ValueError(f"the genotype has {c.genotype.num_levels} levels; ASFD has {len(STRIDES)}")
            self.fem: nn.Module = AutoFEM(c.channels, c.genotype, c.fpn_repeats, c.cpm_channels)
        elif c.fem == "dsfd":
            self.fem = DSFDFEM(c.channels, len(STRIDES))
        else:
            self.fem = nn.Identity()
        self.head = DualShotHead(c.channels, len(STRIDES), c.head_convs, c.cosine, c.cos_scale, c.maxout_levels,
                                 c.maxout_bg, c.maxin_face)
        self.strides = STRIDES
        ratio = (c.anchor_ratio,)
        self.anchors = AnchorGrid(STRIDES, tuple((c.anchor_scale * s,) for s in STRIDES), ratio, (0.5,))
        self.aux_anchors = AnchorGrid(STRIDES, tuple((c.anchor_scale * s / 2,) for s in STRIDES), ratio, (0.5,))
        for part in (self.extra, self.lateral, self.fem, self.head):
            kaiming_init_(part)
        for conv in (*self.head.reg_pred, *(p for p in self.head.cls_pred if isinstance(p, nn.Conv2d))):
            nn.init.normal_(conv.weight, std=0.01)  # predictors: N(0, 0.01), zero bias (SSD); cosine: its own
            nn.init.zeros_(conv.bias)

    def shots(self, images: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(first-shot maps, second-shot maps)``: the laterals and their enhancement."""
        x = list(self.backbone(images))
        for layer in self.extra:
            x.append(layer(x[-1]))
        first = [lat(f) for lat, f in zip(self.lateral, x, strict=True)]
        second = self.fem(first) if self.config.fem != "none" else first
        return first, list(second)

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        first, second = self.shots(images)
        out = run_levels(self.head, second)
        if self.aux:
            out.aux = run_levels(self.head, first)
        return out
