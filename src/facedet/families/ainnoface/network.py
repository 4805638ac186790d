"""AInnoFace / SRN detector (spec families.md §4.1–4.2; ChiCheng123/SRN ``resnet_srn.py``).

    C2..C5 = ResNet stages;  C6 = Conv3x3/2(C5 -> c6);  C7 = Conv3x3/2(C6 -> c7)   (no ReLU between)
    first step:  1x1 sources on C2..C7       second step: SRN FPN P2..P7     (:class:`SRNFPN`)
    one head (:class:`SRNHead`, RFE in both subnets) shared by all six levels and both steps

``forward -> HeadOutputs(cls, reg = step 2, aux = HeadOutputs(step 1))``: the first step is part of
inference too (the STC gate on P2–P4 and the STR refinement on P5–P7), so every build returns it.
Anchors: per level (stride S = 4 .. 128) two sizes 2S and 2·sqrt(2)·S, h / w = 1.25, centred on the
cell centre. Coder: SRN's variance-free deltas.

Choices [ours], each a field of :class:`AInnoFaceConfig`:

- Anchors keep the exact area (2S)² and ratio 1.25; SRN's Detectron ``_ratio_enum`` rounds the base
  window to whole pixels (4x5 at stride 4, 7x9 at 8, ...) and centres it at ``(S - 1) / 2``; the
  difference is under one pixel per side at stride 4 and there is no official checkpoint to match.
- ``c6_channels`` defaults to half of C5's (1024 for ResNet-50/152, as the code; 256 for ResNet-18/34).
- Size deltas are clamped at log(1000/16) before ``exp`` (Detectron's clamp; SRN's numpy decode has
  none), so the IoU loss stays finite on a diverging step.
- Max-out (S3FD, 3 background logits) on P2 in both steps (the head is shared, so both get it).
- Initialisation: Xavier-uniform for every new conv (AInnoFace: "xavier") except the 1x1 predictors,
  which keep SRN's N(0, 0.01) so that the classification prior bias ``-log((1 - pi) / pi)``, pi = 0.01,
  holds at the start and the first boxes are the anchors (Xavier predictors start at face probability
  ~0.004 and -ln IoU ~9 on real data: a measured first run); zero biases; backbone: torchvision's init,
  or a local torchvision ImageNet checkpoint (``load_torchvision_checkpoint``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ...coders import DETECTRON_MAX_LOG_WH, VARIANCE_FREE, DeltaCoder
from ...models.backbones.resnet_classic import ResNet
from ...models.heads.srn_head import SRNHead
from ...models.necks.srn_fpn import SRNFPN
from ...models.outputs import HeadOutputs, run_levels
from ...priors import AnchorGrid

STRIDES = (4, 8, 16, 32, 64, 128)


@dataclass(frozen=True)
class AInnoFaceConfig:
    """Architecture knobs (see the module docstring); presets in ``presets.py`` fill them.

    ``stc_levels`` / ``str_levels``: levels (0 = P2) where the first step classifies (STC) and
    regresses (STR) — SRN's ``multi_cls_levels [0, 1, 2]`` and ``multi_reg_levels [3, 4, 5]``.
    ``maxout_levels``: levels whose classifier uses max-out with ``maxout_bg`` background logits
    (empty or ``maxout_bg = 0``: off, the SRN graph).
    """

    depth: int = 152
    widths: tuple[int, int, int, int] = (64, 128, 256, 512)
    channels: int = 256
    c6_channels: int | None = None
    c7_channels: int = 256
    anchor_scales: tuple[float, ...] = (2.0, 2.0 * math.sqrt(2.0))
    anchor_ratio: float = 1.25
    anchor_offset: float = 0.5
    rfe: bool = True
    maxout_levels: tuple[int, ...] = (0,)
    maxout_bg: int = 3
    stc_levels: tuple[int, ...] = (0, 1, 2)
    str_levels: tuple[int, ...] = (3, 4, 5)
    prior_prob: float = 0.01
    interpolation: str = "bilinear"
    freeze_bn: bool = False


class AInnoFace(nn.Module):
    """ResNet + C6/C7 + SRN FPN + shared RFE head; ``forward(images) -> HeadOutputs`` (see module docstring)."""

    family = "ainnoface"
    preset: str | None = None
    has_kps = False
    coder = DeltaCoder(VARIANCE_FREE, DETECTRON_MAX_LOG_WH)
    input_mean = (123.675, 116.28, 103.53)  # SRN's test preprocessing: torchvision ImageNet mean/std, RGB
    input_std = (58.395, 57.12, 57.375)
    input_rgb = True

    def __init__(self, config: AInnoFaceConfig | None = None) -> None:
        super().__init__()
        self.config = c = config or AInnoFaceConfig()
        levels = range(len(STRIDES))
        named = (("stc_levels", c.stc_levels), ("str_levels", c.str_levels), ("maxout_levels", c.maxout_levels))
        for name, lv in named:
            if any(i not in levels for i in lv):
                raise ValueError(f"{name} must be level indices 0..5 (0 = P2), got {lv}")
        self.backbone = ResNet(c.depth, c.widths, freeze_bn=c.freeze_bn)
        c5 = self.backbone.out_channels[-1]
        c6 = c.c6_channels if c.c6_channels is not None else c5 // 2
        self.c6 = nn.Conv2d(c5, c6, 3, 2, 1)
        self.c7 = nn.Conv2d(c6, c.c7_channels, 3, 2, 1)
        self.neck = SRNFPN((*self.backbone.out_channels, c6, c.c7_channels), c.channels, c.interpolation)
        self.strides = STRIDES
        self.anchors = AnchorGrid(STRIDES, tuple(tuple(k * s for k in c.anchor_scales) for s in STRIDES),
                                  ratios=(c.anchor_ratio,), offsets=(c.anchor_offset,))
        self.num_anchors = len(c.anchor_scales)
        self.head = SRNHead(c.channels, self.num_anchors, c.rfe, c.maxout_levels, c.maxout_bg)
        self.stc_levels, self.str_levels = tuple(c.stc_levels), tuple(c.str_levels)
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform + zero bias outside the backbone; N(0, 0.01) predictors; the face logit's prior bias."""
        predictors = {id(m) for m in self.head.predictors()}
        for part in (self.c6, self.c7, self.neck, self.head):
            for m in part.modules():
                if isinstance(m, nn.Conv2d):
                    if id(m) in predictors:
                        nn.init.normal_(m.weight, std=0.01)
                    else:
                        nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
        p = self.config.prior_prob
        nn.init.constant_(self.head.cls_pred.bias, -math.log((1 - p) / p))  # type: ignore[arg-type]

    def features(self, images: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(first-step sources, second-step P2..P7)``."""
        c2, c3, c4, c5 = self.backbone(images)
        c6 = self.c6(c5)
        c7 = self.c7(c6)
        return self.neck((c2, c3, c4, c5, c6, c7))

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        first, second = self.features(images)
        out = run_levels(self.head, second)
        out.aux = run_levels(self.head, first)
        return out
