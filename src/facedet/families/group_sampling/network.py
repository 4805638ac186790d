"""Group Sampling detectors (Ming et al., TPAMI 2022, §3, Fig. 1, Table 3): ResNet + FPN + RPN head.

Variants (``GSConfig.variant``):

- ``fpn``: anchors 16/32/64/128 on P2/P3/P4/P5 (strides 4..32), one anchor per location. The
  paper's "independent 3x3 conv per level before the shared RPN head" is the head's per-level 3x3
  conv (``share_conv=False``) with shared 1x1 predictors; this is also what its Table 11 counts
  (one 3x3 per level: 36.5 G head for FPN).
- ``fpn_finest``: all four anchor sizes on one map (P2, stride 4) -> 4 anchors per location.
- ``fpn_finest_stride``: P2 features, but anchor size ``s`` tiled with stride ``s / 4``
  (4, 8, 16, 32), i.e. the prediction maps sub-sampled ``[::k, ::k]`` per size.
- ``fpn_single``: any level ``level`` with any per-size ``anchor_strides`` (multiples of the level
  stride); ``fpn_finest`` / ``fpn_finest_stride`` are its P2 cases.
- ``fpn_finest_dc``: ``fpn_finest`` with the dilated head (:class:`DilatedRPNHead`).

Output levels group the anchor sizes that share a stride; ``anchors`` (an :class:`AnchorGrid`:
per output level its stride, sizes and offset) tells the criterion and the post-processor where the
anchors are, ``coder`` how deltas decode (no variances, eq. 13; size deltas clamped at
log(1000/16)). Anchor centres sit at ``(i + 0.5) * level_stride`` of the feature cell they are read
from (``anchor_offset=0.5``), also on sub-sampled maps. Input: RGB, torchvision mean/std.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

from ...coders import DETECTRON_MAX_LOG_WH, VARIANCE_FREE, DeltaCoder
from ...models.backbones.mobilenet import MobileNetV1
from ...models.backbones.resnet_classic import ResNet
from ...models.heads.rpn_head import DilatedRPNHead, RPNHead
from ...models.layers import flatten_levels
from ...models.necks.fpn import FPN
from ...models.outputs import HeadOutputs
from ...priors import AnchorGrid

if TYPE_CHECKING:
    from .fast_rcnn import GroupedFastRCNN

Variant = Literal["fpn", "fpn_finest", "fpn_finest_stride", "fpn_single", "fpn_finest_dc"]
VARIANTS: tuple[str, ...] = ("fpn", "fpn_finest", "fpn_finest_stride", "fpn_single", "fpn_finest_dc")


@dataclass(frozen=True)
class GSConfig:
    """Architecture knobs; presets in ``presets.py`` fill them.

    ``level``: pyramid level of the single-level variants (2 = P2, stride 4; the paper's R18 and
    R152 models use 3). ``anchor_strides``: per anchor size, for ``fpn_single`` (None = the level
    stride for every size). ``with_fc`` keeps torchvision's unused ImageNet classifier (what the
    paper's parameter counts include). ``head_channels``: c' of the RPN head (paper: not stated).
    ``backbone="mobilenet"`` swaps the ResNet for SCRFD's MobileNetV1 (``stage_planes`` /
    ``stage_blocks``; also strides 4..32), so a small detector can start from a trained SCRFD
    backbone where no ImageNet weights exist (the sampling ablation does); its input normalisation
    is SCRFD's (127.5 / 128). ``second_stage`` adds the grouped Fast R-CNN (``rcnn``, FC-``rcnn_fc``)
    on the finest neck map; ``forward`` then also returns the neck maps in ``HeadOutputs.features``.
    """

    variant: Variant = "fpn_finest"
    depth: int = 50
    widths: tuple[int, int, int, int] = (64, 128, 256, 512)
    level: int = 2
    anchor_sizes: tuple[float, ...] = (16.0, 32.0, 64.0, 128.0)
    anchor_strides: tuple[int, ...] | None = None
    neck_channels: int = 256
    head_channels: int = 256
    dilations: tuple[int, ...] = field(default=(1, 2, 4, 8))
    with_fc: bool = False
    freeze_bn: bool = False
    second_stage: bool = False
    rcnn_fc: int = 1024
    backbone: Literal["resnet", "mobilenet"] = "resnet"
    stage_planes: tuple[int, ...] = (16, 16, 40, 72, 152, 288)  # mobilenet: SCRFD-500M's widths
    stage_blocks: tuple[int, ...] = (2, 3, 2, 6)
    anchor_offset: float = 0.5
    prior_prob: float | None = None


class GroupSamplingDetector(nn.Module):
    """Backbone -> FPN -> RPN head; ``forward(images) -> HeadOutputs`` (softmax logits, deltas without variances)."""

    family = "group_sampling"
    preset: str | None = None
    has_kps = False
    coder = DeltaCoder(VARIANCE_FREE, DETECTRON_MAX_LOG_WH)
    input_mean = (123.675, 116.28, 103.53)  # torchvision ImageNet normalisation, RGB order
    input_std = (58.395, 57.12, 57.375)
    input_rgb = True

    def __init__(self, config: GSConfig) -> None:
        super().__init__()
        if config.variant not in VARIANTS:
            raise ValueError(f"unknown Group Sampling variant {config.variant!r}; choose one of {VARIANTS}")
        self.config = c = config
        if c.backbone == "mobilenet":
            self.backbone: nn.Module = MobileNetV1(c.stage_planes, c.stage_blocks)
            self.input_mean, self.input_std = (127.5,) * 3, (128.0,) * 3  # type: ignore[assignment]
        elif c.backbone == "resnet":
            self.backbone = ResNet(c.depth, c.widths, with_fc=c.with_fc, freeze_bn=c.freeze_bn)
        else:
            raise ValueError(f"backbone must be 'resnet' or 'mobilenet', got {c.backbone!r}")
        sizes = tuple(float(s) for s in c.anchor_sizes)
        if c.variant == "fpn":
            levels = tuple(range(2, 2 + len(sizes)))
            self.neck = FPN(self.backbone.out_channels, c.neck_channels, levels)
            self.head: RPNHead | DilatedRPNHead = RPNHead(
                c.neck_channels, 1, c.head_channels, num_levels=len(levels), share_conv=False, prior_prob=c.prior_prob
            )
            self.level_stride = 4
            self.strides = tuple(2**lv for lv in levels)
            self.anchors = AnchorGrid(self.strides, tuple((s,) for s in sizes), offsets=(c.anchor_offset,))
            self._groups: list[tuple[int, list[int]]] = []
            self._add_second_stage()
            return
        level = c.level
        self.level_stride = s0 = 2**level
        self.neck = FPN(self.backbone.out_channels, c.neck_channels, (level,))
        if c.variant == "fpn_finest_dc":
            if len(c.dilations) != len(sizes):
                raise ValueError(f"{len(c.dilations)} dilations for {len(sizes)} anchor sizes")
            self.head = DilatedRPNHead(c.neck_channels, c.dilations, c.head_channels, prior_prob=c.prior_prob)
        else:
            self.head = RPNHead(c.neck_channels, len(sizes), c.head_channels, prior_prob=c.prior_prob)
        if c.variant == "fpn_finest_stride":
            a_strides = tuple(max(s0, int(round(s / 4))) for s in sizes)  # 16 -> 4, 32 -> 8, ...
        else:
            a_strides = c.anchor_strides if c.anchor_strides is not None else tuple(s0 for _ in sizes)
        if len(a_strides) != len(sizes) or any(st % s0 for st in a_strides):
            raise ValueError(f"anchor strides {a_strides} must be multiples of the level stride {s0}, one per size")
        uniq = sorted(set(a_strides))
        self._groups = [(st // s0, [i for i, v in enumerate(a_strides) if v == st]) for st in uniq]
        self.strides = tuple(uniq)
        # centre of a sub-sampled cell i: (i*k + offset) * s0 = (i + offset/k) * (k*s0)
        self.anchors = AnchorGrid(self.strides, tuple(tuple(sizes[i] for i in idx) for _, idx in self._groups),
                                  offsets=tuple(c.anchor_offset / k for k, _ in self._groups))
        self._add_second_stage()

    def _add_second_stage(self) -> None:
        """The grouped Fast R-CNN on the finest neck map (``config.second_stage``), else ``rcnn = None``."""
        from .fast_rcnn import GroupedFastRCNN

        c = self.config
        self.rcnn: GroupedFastRCNN | None = None
        if c.second_stage:
            self.rcnn = GroupedFastRCNN(c.neck_channels, feature_stride=self.level_stride, fc_channels=c.rcnn_fc)

    @property
    def num_anchors(self) -> int:
        """Anchors per location of the finest output level."""
        return self.anchors.per_location(0)

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Neck maps (finest first): P2..P5 for ``fpn``, the one level otherwise."""
        return self.neck(self.backbone(images))

    def head_outputs(self, feats: list[torch.Tensor]) -> HeadOutputs:
        """Head on neck maps -> per-output-level rows (sub-sampled for the strided variants)."""
        maps = self.head.forward_maps(feats)
        if not self._groups:  # multi-level FPN: one output level per map
            return HeadOutputs([flatten_levels(c, 2) for c, _ in maps], [flatten_levels(r, 4) for _, r in maps], None,
                               [(c.shape[-2], c.shape[-1]) for c, _ in maps])
        (cls, reg), = maps
        b, _, h, w = cls.shape
        na = cls.shape[1] // 2
        cls5, reg5 = cls.view(b, na, 2, h, w), reg.view(b, na, 4, h, w)
        out_c, out_r, sizes = [], [], []  # sizes: (H, W) of each output level
        for k, idx in self._groups:
            if len(idx) == na and k == 1:
                c_j, r_j = cls, reg
            else:
                sel = torch.as_tensor(idx, device=cls.device)
                c_j = cls5.index_select(1, sel)[..., ::k, ::k].reshape(b, len(idx) * 2, -1, (w + k - 1) // k)
                r_j = reg5.index_select(1, sel)[..., ::k, ::k].reshape(b, len(idx) * 4, -1, (w + k - 1) // k)
            out_c.append(flatten_levels(c_j, 2))
            out_r.append(flatten_levels(r_j, 4))
            sizes.append((c_j.shape[-2], c_j.shape[-1]))
        return HeadOutputs(out_c, out_r, None, sizes)

    def forward_with_features(self, images: torch.Tensor) -> tuple[HeadOutputs, list[torch.Tensor]]:
        """Head outputs and the neck maps (for the grouped Fast R-CNN second stage)."""
        feats = self.features(images)
        return self.head_outputs(feats), feats

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        feats = self.features(images)
        out = self.head_outputs(feats)
        if self.rcnn is not None:
            out.features = feats
        return out
