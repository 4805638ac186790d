"""SCRFD detector (backbone -> PAFPN on strides 8/16/32 -> SCRFD head) and its released presets.

``SCRFD.forward`` returns raw :class:`HeadOutputs`: cls logits, reg distances ``l t r b`` in stride
units (after the per-level Scale), kps offsets in stride units or None. Presets reproduce
insightface's released configs (spec §1.2); ``PRESETS`` maps the model name to its constructor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import torch
from torch import nn

from .backbones import BasicBlock, Bottleneck, MobileNetV1, ResNetV1e
from .heads import SCRFDHead
from .layers import NormKind
from .necks import PAFPN
from .outputs import HeadOutputs


@dataclass(frozen=True)
class SCRFDConfig:
    """Every architecture knob of an SCRFD model (defaults: none; presets below fill them).

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


class SCRFD(nn.Module):
    """Single-stage face detector; attributes below are what the detection API reads."""

    family = "scrfd"
    input_mean = 127.5  # pixel (x - 127.5) / 128 on RGB, as insightface's Normalize / blobFromImage
    input_std = 128.0
    input_rgb = True

    def __init__(self, backbone: nn.Module, neck: PAFPN, bbox_head: SCRFDHead, config: SCRFDConfig | None = None):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.bbox_head = bbox_head
        self.config = config
        self.strides = bbox_head.strides
        self.num_anchors = bbox_head.num_anchors
        self.has_kps = bbox_head.use_kps

    @classmethod
    def from_config(cls, cfg: SCRFDConfig) -> SCRFD:
        """Build backbone, neck and head from a :class:`SCRFDConfig`."""
        if cfg.backbone == "mobilenet":
            backbone: nn.Module = MobileNetV1(cfg.stage_planes, cfg.stage_blocks)
        elif cfg.backbone in ("resnet_basic", "resnet_bottleneck"):
            block = BasicBlock if cfg.backbone == "resnet_basic" else Bottleneck
            backbone = ResNetV1e(block, cfg.stage_blocks, cfg.stage_planes, cfg.base_channels)
        else:
            raise ValueError(f"unknown SCRFD backbone {cfg.backbone!r}")
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


# ---- released configs (insightface detection/scrfd/configs/scrfd/*.py) ---------------------------

_MBN_HEAD = dict(dw_conv=True)
SCRFD_500M = SCRFDConfig("mobilenet", (2, 3, 2, 6), (16, 16, 40, 72, 152, 288), 16, 64, **_MBN_HEAD)
SCRFD_1G = SCRFDConfig("mobilenet", (3, 2, 1, 5), (32, 48, 48, 160, 216, 312), 24, 96, gn_groups=8, **_MBN_HEAD)
SCRFD_2_5G = SCRFDConfig("resnet_basic", (3, 5, 3, 2), (24, 48, 48, 80), 24, 64, base_channels=24)
SCRFD_10G = SCRFDConfig("resnet_basic", (3, 4, 2, 3), (56, 88, 88, 224), 56, 80, base_channels=56, stacked_convs=3)
SCRFD_34G = SCRFDConfig(
    "resnet_bottleneck", (17, 16, 2, 8), (56, 56, 144, 184), 128, 256, base_channels=56, gn_groups=32
)
_BN_KPS = dict(norm="bn", shared_head=False, use_kps=True)
SCRFD_500M_KPS = replace(SCRFD_500M, use_scale=False, **_BN_KPS)  # scale_mode=0 in scrfd_500m_bnkps.py
SCRFD_2_5G_KPS = replace(SCRFD_2_5G, **_BN_KPS)
SCRFD_10G_KPS = replace(SCRFD_10G, **_BN_KPS)


def _build(cfg: SCRFDConfig, overrides: dict[str, Any]) -> SCRFD:
    return SCRFD.from_config(replace(cfg, **overrides) if overrides else cfg)


def scrfd_500m(**overrides: Any) -> SCRFD:
    """SCRFD-0.5GF: MobileNetV1, DW-separable shared GN head."""
    return _build(SCRFD_500M, overrides)


def scrfd_1g(**overrides: Any) -> SCRFD:
    """SCRFD-1GF: MobileNetV1, DW-separable shared GN(8) head."""
    return _build(SCRFD_1G, overrides)


def scrfd_2_5g(**overrides: Any) -> SCRFD:
    """SCRFD-2.5GF: ResNet-v1e BasicBlock, shared GN head."""
    return _build(SCRFD_2_5G, overrides)


def scrfd_10g(**overrides: Any) -> SCRFD:
    """SCRFD-10GF: ResNet-v1e BasicBlock, 3-conv shared GN head."""
    return _build(SCRFD_10G, overrides)


def scrfd_34g(**overrides: Any) -> SCRFD:
    """SCRFD-34GF: ResNet-v1e Bottleneck, shared GN(32) head."""
    return _build(SCRFD_34G, overrides)


def scrfd_500m_kps(**overrides: Any) -> SCRFD:
    """SCRFD-0.5GF with landmarks: per-stride BN head, no Scale."""
    return _build(SCRFD_500M_KPS, overrides)


def scrfd_2_5g_kps(**overrides: Any) -> SCRFD:
    """SCRFD-2.5GF with landmarks: per-stride BN head."""
    return _build(SCRFD_2_5G_KPS, overrides)


def scrfd_10g_kps(**overrides: Any) -> SCRFD:
    """SCRFD-10GF with landmarks: per-stride BN head."""
    return _build(SCRFD_10G_KPS, overrides)


PRESETS: dict[str, Callable[..., SCRFD]] = {
    "scrfd_500m": scrfd_500m,
    "scrfd_1g": scrfd_1g,
    "scrfd_2.5g": scrfd_2_5g,
    "scrfd_10g": scrfd_10g,
    "scrfd_34g": scrfd_34g,
    "scrfd_500m_kps": scrfd_500m_kps,
    "scrfd_2.5g_kps": scrfd_2_5g_kps,
    "scrfd_10g_kps": scrfd_10g_kps,
}
