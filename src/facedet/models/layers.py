"""Small building blocks shared by the detectors: conv+norm+act, depthwise-separable conv, Scale.

Attribute names follow mmcv's ``ConvModule`` (``conv``, ``bn``/``gn``, ``activate``) and
``DepthwiseSeparableConvModule`` (``depthwise_conv``, ``pointwise_conv``), so official mmdet
state dicts map onto our modules key for key.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

NormKind = Literal["bn", "gn"] | None


def make_norm(kind: NormKind, channels: int, gn_groups: int = 16) -> nn.Module | None:
    """BatchNorm2d for ``"bn"``, GroupNorm(``gn_groups``) for ``"gn"``, None for no norm."""
    if kind is None:
        return None
    if kind == "bn":
        return nn.BatchNorm2d(channels)
    if kind == "gn":
        if channels % gn_groups:
            raise ValueError(f"GroupNorm: {channels} channels not divisible by {gn_groups} groups")
        return nn.GroupNorm(gn_groups, channels)
    raise ValueError(f"unknown norm kind {kind!r} (expected 'bn', 'gn' or None)")


class ConvNormAct(nn.Module):
    """Conv2d -> optional norm -> optional ReLU; the conv has a bias only when no norm follows."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        norm: NormKind = None,
        gn_groups: int = 16,
        act: bool = True,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=norm is None
        )
        self.norm_name = norm
        norm_layer = make_norm(norm, out_channels, gn_groups)
        if norm is not None and norm_layer is not None:
            self.add_module(norm, norm_layer)
        self.activate = nn.ReLU(inplace=True) if act else None

    @property
    def norm(self) -> nn.Module | None:
        return getattr(self, self.norm_name) if self.norm_name else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        norm = self.norm
        if norm is not None:
            x = norm(x)
        if self.activate is not None:
            x = self.activate(x)
        return x


class DepthwiseSeparableConv(nn.Module):
    """Depthwise kxk conv + norm + ReLU, then pointwise 1x1 conv + norm + ReLU (mmcv layout)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        norm: NormKind = "bn",
        gn_groups: int = 16,
    ) -> None:
        super().__init__()
        self.depthwise_conv = ConvNormAct(
            in_channels, in_channels, kernel_size, stride, padding, groups=in_channels,
            norm=norm, gn_groups=gn_groups,
        )
        self.pointwise_conv = ConvNormAct(in_channels, out_channels, 1, norm=norm, gn_groups=gn_groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise_conv(self.depthwise_conv(x))


class Scale(nn.Module):
    """One learnable scalar multiplying its input (mmcv ``Scale``; SCRFD scales the box branch)."""

    def __init__(self, init: float = 1.0) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def normal_init_(conv: nn.Module, std: float = 0.01, bias: float = 0.0) -> None:
    """Normal(0, ``std``) weights and a constant bias on a conv (or linear) layer."""
    if not isinstance(conv, nn.Conv2d | nn.Linear):
        raise TypeError(f"normal_init_ expects a Conv2d or Linear, got {type(conv).__name__}")
    nn.init.normal_(conv.weight, std=std)
    if conv.bias is not None:
        nn.init.constant_(conv.bias, bias)


def kaiming_init_(module: nn.Module) -> None:
    """mmcv ``kaiming_init`` defaults (fan_out, relu, normal, bias 0) on every conv; norms to (1, 0)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def flatten_levels(x: torch.Tensor, per_anchor: int) -> torch.Tensor:
    """``(B, A*k, H, W)`` -> ``(B, H*W*A, k)``: rows location-major (y, x), then anchor; channel
    ``a*k + j`` is value ``j`` of anchor ``a`` (detectron2's ``permute_to_N_HWA_K``)."""
    b = x.shape[0]
    return x.permute(0, 2, 3, 1).reshape(b, -1, per_anchor)


class MaxOut(nn.Module):
    """S3FD max-out background label: of ``num_bg`` background logits followed by the face logit(s)
    on the channel axis, keep the largest background logit (EXTD's finest head; DSFD max-in-out;
    AInnoFace P2). ``(B, num_bg + F, ...) -> (B, 1 + F, ...)``; ``num_bg=1`` is the identity."""

    def __init__(self, num_bg: int = 3) -> None:
        super().__init__()
        if num_bg < 1:
            raise ValueError(f"MaxOut needs at least one background logit, got {num_bg}")
        self.num_bg = num_bg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.num_bg == 1:
            return x
        bg = x[:, : self.num_bg].amax(dim=1, keepdim=True)
        return torch.cat([bg, x[:, self.num_bg :]], dim=1)
