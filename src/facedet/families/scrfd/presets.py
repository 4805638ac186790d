"""SCRFD presets: the released configs (insightface ``detection/scrfd/configs/scrfd/*.py``, spec §1.2).

``PRESETS`` maps each model name to its constructor; keyword overrides replace :class:`SCRFDConfig`
fields (``build_model("scrfd_500m", use_kps=True)``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .network import SCRFD, SCRFDConfig

SCRFD_500M = SCRFDConfig("mobilenet", (2, 3, 2, 6), (16, 16, 40, 72, 152, 288), 16, 64, dw_conv=True)
SCRFD_1G = SCRFDConfig("mobilenet", (3, 2, 1, 5), (32, 48, 48, 160, 216, 312), 24, 96, gn_groups=8, dw_conv=True)
SCRFD_2_5G = SCRFDConfig("resnet_basic", (3, 5, 3, 2), (24, 48, 48, 80), 24, 64, base_channels=24)
SCRFD_10G = SCRFDConfig("resnet_basic", (3, 4, 2, 3), (56, 88, 88, 224), 56, 80, base_channels=56, stacked_convs=3)
SCRFD_34G = SCRFDConfig(
    "resnet_bottleneck", (17, 16, 2, 8), (56, 56, 144, 184), 128, 256, base_channels=56, gn_groups=32
)
_BN_KPS: dict[str, Any] = dict(norm="bn", shared_head=False, use_kps=True)  # per-stride BN head + landmarks
SCRFD_500M_KPS = replace(SCRFD_500M, use_scale=False, **_BN_KPS)  # scale_mode=0 in scrfd_500m_bnkps.py
SCRFD_2_5G_KPS = replace(SCRFD_2_5G, **_BN_KPS)
SCRFD_10G_KPS = replace(SCRFD_10G, **_BN_KPS)


def _build(cfg: SCRFDConfig, overrides: dict[str, Any]) -> SCRFD:
    return SCRFD.from_config(replace(cfg, **overrides) if overrides else cfg)


def from_arch(arch: Mapping[str, Any], **overrides: Any) -> SCRFD:
    """An SCRFD from an architecture dict (every :class:`SCRFDConfig` field; an architecture file's ``arch``)."""
    return _build(SCRFDConfig.from_dict(arch), overrides)


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
