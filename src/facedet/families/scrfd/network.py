"""SCRFD detector: backbone -> PAFPN on strides 8/16/32 -> SCRFD head, with its priors and coder.

``SCRFD.forward`` returns raw :class:`HeadOutputs`: cls logits, reg distances ``l t r b`` in stride
units (after the per-level Scale), kps offsets in stride units or None. The anchors are the released
configs' ``AnchorGenerator`` (base sizes 16 / 64 / 256, scales 1 and 2, ratio 1, centre offset 0):
ATSS matches on their boxes, distance decoding runs from their centres.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

import torch
from torch import nn

from ...coders import DistanceCoder
from ...models.backbones import BasicBlock, Bottleneck, MobileNetV1, ResNetV1e
from ...models.heads import SCRFDHead
from ...models.layers import NormKind
from ...models.necks import PAFPN
from ...models.outputs import HeadOutputs
from ...priors import AnchorGrid
from .decoding import SCRFD_ANCHOR_SIZES


@dataclass(frozen=True)
class SCRFDConfig:
    """Every architecture knob of an SCRFD model (defaults: none; ``presets.py`` fills them).

    ``backbone``: ``"mobilenet"`` (``stage_planes`` has 6 widths) or ``"resnet_basic"`` /
    ``"resnet_bottleneck"`` (4 widths, ``base_channels`` = deep-stem width).
    """

    backbone: Literal["mobilenet", "resnet_basic", "resnet_bottleneck"]
    stage_blocks: tuple[int, ...]
    stage_planes: tuple[int, ...]
    neck_channels: int
    feat_channels: int
    base_channels: int = 0
    stacked_convs: int = 2
    norm: NormKind = "gn"
    gn_groups: int = 16
    shared_head: bool = True
    use_scale: bool = True
    dw_conv: bool = False
    use_kps: bool = False
    strides: tuple[int, ...] = field(default=(8, 16, 32))
    num_anchors: int = 2
    anchor_sizes: tuple[tuple[float, ...], ...] = SCRFD_ANCHOR_SIZES  # per stride, ``num_anchors`` each

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "arch") -> SCRFDConfig:
        """A config from plain data (an architecture file's ``arch``: lists for tuples); ValueError
        naming ``where`` and the key for unknown keys, missing required ones or wrong types."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"{where}: unknown SCRFD architecture keys {unknown}; known: {', '.join(known)}")
        missing = [n for n, f in known.items() if f.default is MISSING and n not in d]
        if missing:
            raise ValueError(f"{where}: missing SCRFD architecture keys {missing}")
        out: dict[str, Any] = {}
        for k, v in d.items():
            if k in ("stage_blocks", "stage_planes", "strides"):
                if not isinstance(v, list | tuple) or not v or not all(_positive_int(x) for x in v):
                    raise ValueError(f"{where}: {k} must be a list of positive integers, got {v!r}")
                v = tuple(v)
            elif k == "anchor_sizes":
                ok = isinstance(v, list | tuple) and all(
                    isinstance(lv, list | tuple) and all(_positive_number(x) for x in lv) for lv in v)
                if not ok:
                    raise ValueError(f"{where}: anchor_sizes must be a list of lists of positive sizes, got {v!r}")
                v = tuple(tuple(float(x) for x in level) for level in v)
            elif k in ("neck_channels", "feat_channels", "stacked_convs", "gn_groups", "num_anchors"):
                if not _positive_int(v):
                    raise ValueError(f"{where}: {k} must be a positive integer, got {v!r}")
            elif k == "base_channels":
                if not _positive_int(v) and not (v == 0 and d.get("backbone") == "mobilenet"):
                    raise ValueError(f"{where}: base_channels must be a positive integer (0 for mobilenet), got {v!r}")
            elif k in ("shared_head", "use_scale", "dw_conv", "use_kps"):
                if not isinstance(v, bool):
                    raise ValueError(f"{where}: {k} must be true or false, got {v!r}")
            elif k == "backbone" and v not in ("mobilenet", "resnet_basic", "resnet_bottleneck"):
                raise ValueError(f"{where}: backbone must be mobilenet, resnet_basic or resnet_bottleneck, got {v!r}")
            elif k == "norm" and v not in ("gn", "bn", None):
                raise ValueError(f"{where}: norm must be gn, bn or null, got {v!r}")
            out[k] = v
        return cls(**out)


def _positive_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x > 0


def _positive_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and x > 0


def build_backbone(cfg: SCRFDConfig) -> MobileNetV1 | ResNetV1e:
    """The backbone of ``cfg`` alone (a search counts it before building the rest)."""
    if cfg.backbone == "mobilenet":
        return MobileNetV1(cfg.stage_planes, cfg.stage_blocks)
    if cfg.backbone in ("resnet_basic", "resnet_bottleneck"):
        block = BasicBlock if cfg.backbone == "resnet_basic" else Bottleneck
        return ResNetV1e(block, cfg.stage_blocks, cfg.stage_planes, cfg.base_channels)
    raise ValueError(f"unknown SCRFD backbone {cfg.backbone!r}")


class SCRFD(nn.Module):
    """Single-stage face detector; the class attributes and ``anchors`` are its :class:`Detector` contract."""

    family = "scrfd"
    preset: str | None = None
    input_mean = 127.5  # pixel (x - 127.5) / 128 on RGB, as insightface's Normalize / blobFromImage
    input_std = 128.0
    input_rgb = True
    coder = DistanceCoder()

    def __init__(self, backbone: nn.Module, neck: PAFPN, bbox_head: SCRFDHead, config: SCRFDConfig | None = None):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.bbox_head = bbox_head
        self.config = config
        self.strides = bbox_head.strides
        self.num_anchors = bbox_head.num_anchors
        self.has_kps = bbox_head.use_kps
        sizes = config.anchor_sizes if config is not None else SCRFD_ANCHOR_SIZES
        if len(sizes) != len(self.strides) or any(len(s) != self.num_anchors for s in sizes):
            raise ValueError(f"anchor sizes {sizes} do not give {self.num_anchors} anchors on each of {self.strides}")
        self.anchors = AnchorGrid(self.strides, sizes, offsets=(0.0,))

    @classmethod
    def from_config(cls, cfg: SCRFDConfig) -> SCRFD:
        """Build backbone, neck and head from a :class:`SCRFDConfig`."""
        backbone = build_backbone(cfg)
        levels = backbone.out_channels[1:]  # PAFPN start_level=1: strides 8, 16, 32
        neck = PAFPN(levels, cfg.neck_channels)
        head = SCRFDHead(
            cfg.neck_channels, cfg.feat_channels, cfg.stacked_convs, cfg.norm, cfg.gn_groups,
            shared=cfg.shared_head, use_scale=cfg.use_scale, dw_conv=cfg.dw_conv, use_kps=cfg.use_kps,
            strides=cfg.strides, num_anchors=cfg.num_anchors,
        )
        return cls(backbone, neck, head, cfg)

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        """``images`` (B, 3, H, W) normalised float, H and W multiples of 32."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"SCRFD expects (B, 3, H, W) images, got shape {tuple(images.shape)}")
        feats = self.backbone(images)[1:]
        feats = self.neck(feats)
        cls, reg, kps = self.bbox_head(feats)
        return HeadOutputs(cls=cls, reg=reg, kps=kps, feat_sizes=[(int(f.shape[2]), int(f.shape[3])) for f in feats])

    def config_dict(self) -> dict[str, Any]:
        """The architecture as a plain dict (saved next to checkpoints)."""
        return asdict(self.config) if self.config is not None else {}
