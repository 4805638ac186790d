"""SCRFD's computation-redistribution search spaces (spec scrfd.md §5.2), as data.

The ResNet spaces are those of insightface's ``search_tools/generate_configs_2.5g.py``:

- **stage 1** (backbone only; neck and head as the template): block in {BasicBlock, Bottleneck},
  base width Int[8, 64] floored to a multiple of 8 (at least 8), 4 depths Int[1, 10], 3 width
  ratios Real[1, 4] with ``planes[i+1] = floor(planes[i] * r_i / 8) * 8``;
- **stage 2** (the chosen backbone scaled, neck and head re-sampled): depth ratio and width ratio
  Real[0.5, 3] (``round(d * r)``, ``floor(round(w * r) / 8) * 8``), neck width Int[8, 128] and head
  width Int[8, 256] floored to multiples of 8, head depth Int[1, 4], GN groups the last of
  8/16/32/64 in a row that divides the head width. Accepted only when each stage's MACs relative
  to the stem (``layer_k / stem``, stem without the max-pool, as mmcv's ``(stem)`` line) is within
  ``ratio_eps`` (by default 5 x the budget's ``eps``, 0.1, as released) of the template's, measured
  as the released code does: ``(1 - ratio_eps) * r <= t <= (1 + ratio_eps) * r`` for candidate ratio
  ``r`` and template ratio ``t``. The rule is narrow: a draw passes only when its depth ratio keeps
  every stage's rounded depth (for SCRFD-2.5GF's 3/5/3/2 only ratios in [0.9, 1.1) do: 1 in 12.5 of
  [0.5, 3], by the rounding arithmetic), and with small widths
  (MobileNet templates) the floor to multiples of 8 rejects most width ratios as well.

A depthwise head (the MobileNet models') normalises its depthwise conv over the neck width, so there
the GN rule is applied to ``gcd(neck, head)``. Two more choices of ours, each a setting: a stage-2
depth that rounds to 0 is built with 1 block (what mmdet's ``ResLayer`` builds for 0; ``min_depth``),
and a width that floors to 0 makes the draw invalid (mmdet cannot build it; the draw is skipped).

The **MobileNet (depthwise) space** for the 0.5G / 1G budgets is ours; the released tools lack it.
It is read off the two released configs: SCRFD-0.5GF (depths 2/3/2/6, widths 16/16/40/72/152/288)
and SCRFD-1GF (3/2/1/5, 32/48/48/160/216/312). Stage 1 draws the stem width Int[8, 32] (16, 32
released), the stem's depthwise-block ratio Real[1, 2] (1.0, 1.5), four stage ratios Real[1, 4]
(released 1.0 ... 3.33) and four depths Int[1, 10] (1 ... 6), every width floored to a multiple of
8 as in the ResNet space; neck and head come from the template (SCRFD-0.5GF's: neck 16, DW head
64, GN 16). Stage 2 is the ResNet stage 2 over the six widths, with the template's depthwise head.

Released GN groups do not follow the generator's rule (2.5G: head 64 with GN 16, the rule gives
64; 34G: 256 with 32, rule 64; 1G: 96 with 8, rule 32): GN groups are derived, not searched, so
:func:`violations` does not check them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from ...analysis.flops import Complexity, count_built
from ...search.random_search import Draw, within
from .network import SCRFD, SCRFDConfig, build_backbone
from .presets import SCRFD_500M

# insightface configs/scrfdgen2.5g/scrfdgen2.5g_0.py: the stage-1 template of the released 2.5G search
SCRFDGEN_2_5G_0 = SCRFDConfig("resnet_basic", (3, 4, 6, 3), (16, 32, 64, 128), 48, 96, base_channels=16)
# ours: the MobileNet stage-1 template is SCRFD-0.5GF's neck and head
MOBILE_TEMPLATE = SCRFD_500M
TEMPLATES = {"resnet": SCRFDGEN_2_5G_0, "mobilenet": MOBILE_TEMPLATE}
STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")


def floor8(x: float) -> int:
    """``int(x) // 8 * 8``, the released generator's rounding of a width."""
    return int(x) // 8 * 8


def gn_groups_for(width: int) -> int:
    """The generator's GN rule: walk 8, 16, 32, 64 while each divides ``width``; the last one (8 if none)."""
    groups = 8
    for g in (8, 16, 32, 64):
        if width % g:
            break
        groups = g
    return groups


def _width_problems(planes: tuple[int, ...], first: tuple[int, int], ratios: list[tuple[float, float]]) -> list[str]:
    """Why no drawn values give ``planes``: the first width (a multiple of 8 in ``first``), then each
    ``floor8(p * r)`` with ``r`` in its range (reachable when ``lo * p <= next <= hi * p``, a multiple of 8)."""
    out = []
    if planes[0] % 8 or not first[0] <= planes[0] <= first[1]:
        out.append(f"first width {planes[0]} is not a multiple of 8 in [{first[0]}, {first[1]}]")
    for i, (lo, hi) in enumerate(ratios):
        p, q = planes[i], planes[i + 1]
        if q % 8 or not lo * p <= q <= hi * p:
            out.append(f"width {p} -> {q} is not floor8({p} x r) for r in [{lo}, {hi}]")
    return out


def widths(first: float, ratios: list[float]) -> list[int]:
    """The generator's width chain: ``max(8, floor8(first))``, then ``floor8(previous * r)`` per ratio."""
    planes = [max(8, floor8(first))]
    for r in ratios:
        planes.append(floor8(planes[-1] * r))
    return planes


def _depth_problems(depths: tuple[int, ...], bounds: tuple[int, int]) -> list[str]:
    return [f"depth {d} outside [{bounds[0]}, {bounds[1]}]" for d in depths if not bounds[0] <= d <= bounds[1]]


def _int(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi], both ends included (autotorch ``Int``)."""
    return int(rng.integers(lo, hi + 1))


def stage_ratios(c: Complexity) -> list[float]:
    """``layer_k / stem`` MACs for k = 1..4 (stem without the max-pool, as mmcv's ``(stem)``)."""
    parts = c.by_prefix([f"backbone.{s}" for s in STAGES])
    stem = parts["backbone.stem"]
    return [parts[f"backbone.layer{k}"] / stem for k in range(1, 5)]


def count(cfg: SCRFDConfig, size: tuple[int, int] = (640, 480)) -> Complexity:
    """MACs of ``cfg`` at ``size`` (:func:`~facedet.analysis.flops.count_built`)."""
    return count_built(lambda: SCRFD.from_config(cfg), size)


class _BackboneOnly(nn.Module):
    """A backbone under the name ``backbone``, so its counts carry the full model's module names."""

    def __init__(self, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, x: torch.Tensor) -> object:
        return self.backbone(x)


def backbone_ratios(cfg: SCRFDConfig, size: tuple[int, int] = (640, 480)) -> list[float]:
    """:func:`stage_ratios` of ``cfg`` from its backbone alone: stage 2 rejects most draws on it (around
    scrfd_2.5g, 17,076 draws took 282 s on one thread, 16 ms each, against ~30 ms for a whole count)."""
    return stage_ratios(count_built(lambda: _BackboneOnly(build_backbone(cfg)), size))


@dataclass(frozen=True)
class ResNetStage1:
    """Stage 1 over ResNet-v1e backbones (the released ``GenConfigBackbone``)."""

    template: SCRFDConfig = SCRFDGEN_2_5G_0
    blocks: tuple[Literal["resnet_basic", "resnet_bottleneck"], ...] = ("resnet_basic", "resnet_bottleneck")
    base: tuple[int, int] = (8, 64)
    depth: tuple[int, int] = (1, 10)
    ratio: tuple[float, float] = (1.0, 4.0)
    name: str = "resnet"
    stage: int = 1

    def sample(self, rng: np.random.Generator) -> Draw:
        block = self.blocks[int(rng.integers(len(self.blocks)))]
        base = _int(rng, *self.base)
        depths = [_int(rng, *self.depth) for _ in range(4)]
        ratios = [float(rng.uniform(*self.ratio)) for _ in range(3)]
        planes = widths(base, ratios)
        cfg = replace(self.template, backbone=block, stage_blocks=tuple(depths), stage_planes=tuple(planes),
                      base_channels=planes[0])
        return Draw(asdict(cfg), {"block": block, "base_channels": base, "stage_blocks": depths,
                                  "stage_planes_ratio": ratios})

    def check(self, complexity: Complexity) -> str | None:
        return None

    def backbone_problems(self, cfg: SCRFDConfig) -> list[str]:
        """Why no draw of this space gives ``cfg``'s backbone (empty: one does)."""
        out = [] if cfg.backbone in self.blocks else [f"backbone {cfg.backbone} not in {self.blocks}"]
        if len(cfg.stage_planes) != 4 or len(cfg.stage_blocks) != 4:
            return [*out, f"{len(cfg.stage_planes)} widths and {len(cfg.stage_blocks)} depths, not 4 and 4"]
        if cfg.base_channels != cfg.stage_planes[0]:
            out.append(f"base_channels {cfg.base_channels} differs from the first width {cfg.stage_planes[0]}")
        out += _depth_problems(cfg.stage_blocks, self.depth)
        return out + _width_problems(cfg.stage_planes, (max(8, self.base[0]), self.base[1]), [self.ratio] * 3)

    def describe(self) -> dict[str, Any]:
        return {"space": self.name, "stage": 1, "template": asdict(self.template), "blocks": list(self.blocks),
                "base": list(self.base), "depth": list(self.depth), "ratio": list(self.ratio)}


@dataclass(frozen=True)
class MobileStage1:
    """Stage 1 over MobileNetV1 backbones (ours; module docstring)."""

    template: SCRFDConfig = MOBILE_TEMPLATE
    stem: tuple[int, int] = (8, 32)
    stem_ratio: tuple[float, float] = (1.0, 2.0)
    depth: tuple[int, int] = (1, 10)
    ratio: tuple[float, float] = (1.0, 4.0)
    name: str = "mobilenet"
    stage: int = 1

    def sample(self, rng: np.random.Generator) -> Draw:
        stem = _int(rng, *self.stem)
        stem_ratio = float(rng.uniform(*self.stem_ratio))
        depths = [_int(rng, *self.depth) for _ in range(4)]
        ratios = [float(rng.uniform(*self.ratio)) for _ in range(4)]
        planes = widths(stem, [stem_ratio, *ratios])
        cfg = replace(self.template, backbone="mobilenet", stage_blocks=tuple(depths), stage_planes=tuple(planes),
                      base_channels=0)
        return Draw(asdict(cfg), {"stem_channels": stem, "stem_ratio": stem_ratio, "stage_blocks": depths,
                                  "stage_planes_ratio": ratios})

    def check(self, complexity: Complexity) -> str | None:
        return None

    def backbone_problems(self, cfg: SCRFDConfig) -> list[str]:
        """Why no draw of this space gives ``cfg``'s backbone (empty: one does)."""
        out = [] if cfg.backbone == "mobilenet" else [f"backbone {cfg.backbone} is not mobilenet"]
        if len(cfg.stage_planes) != 6 or len(cfg.stage_blocks) != 4:
            return [*out, f"{len(cfg.stage_planes)} widths and {len(cfg.stage_blocks)} depths, not 6 and 4"]
        out += _depth_problems(cfg.stage_blocks, self.depth)
        return out + _width_problems(cfg.stage_planes, (max(8, self.stem[0]), self.stem[1]),
                                     [self.stem_ratio] + [self.ratio] * 4)

    def describe(self) -> dict[str, Any]:
        return {"space": self.name, "stage": 1, "template": asdict(self.template), "stem": list(self.stem),
                "stem_ratio": list(self.stem_ratio), "depth": list(self.depth), "ratio": list(self.ratio)}


@dataclass(frozen=True)
class Stage2:
    """Stage 2 around a chosen backbone (the released ``GenConfigAll``), for either backbone kind."""

    template: SCRFDConfig
    depth_ratio: tuple[float, float] = (0.5, 3.0)
    width_ratio: tuple[float, float] = (0.5, 3.0)
    neck: tuple[int, int] = (8, 128)
    head: tuple[int, int] = (8, 256)
    head_depth: tuple[int, int] = (1, 4)
    ratio_eps: float = 0.1
    min_depth: int = 1
    name: str = ""
    stage: int = 2
    template_ratios: tuple[float, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", "mobilenet" if self.template.backbone == "mobilenet" else "resnet")
        if not self.template_ratios:
            object.__setattr__(self, "template_ratios", tuple(stage_ratios(count(self.template))))

    def sample(self, rng: np.random.Generator) -> Draw | None:
        dr = float(rng.uniform(*self.depth_ratio))
        wr = float(rng.uniform(*self.width_ratio))
        neck, head, stack = _int(rng, *self.neck), _int(rng, *self.head), _int(rng, *self.head_depth)
        knobs = {"stage_blocks_ratio": dr, "base_channels_ratio": wr, "fpn_channel": neck, "head_channel": head,
                 "head_stack": stack}
        depths = tuple(max(self.min_depth, int(np.round(d * dr))) for d in self.template.stage_blocks)
        planes = tuple(floor8(np.round(w * wr)) for w in self.template.stage_planes)
        if min(planes) == 0 or floor8(neck) == 0 or floor8(head) == 0:
            return None
        cfg = replace(self.template, stage_blocks=depths, stage_planes=planes,
                      base_channels=planes[0] if self.template.backbone != "mobilenet" else 0,
                      neck_channels=floor8(neck), feat_channels=floor8(head), stacked_convs=stack,
                      gn_groups=gn_groups_for(math.gcd(floor8(neck), floor8(head)) if self.template.dw_conv
                                              else floor8(head)))
        if self.ratio_reason(backbone_ratios(cfg)) is not None:
            return None  # rejected on the backbone alone, before the whole model is built and counted
        return Draw(asdict(cfg), knobs)

    def check(self, complexity: Complexity) -> str | None:
        return self.ratio_reason(stage_ratios(complexity))

    def ratio_reason(self, ratios: list[float]) -> str | None:
        """Why ``layer_k / stem`` ratios fail the rule against the template's, or None."""
        for k, (t, r) in enumerate(zip(self.template_ratios, ratios, strict=True), start=1):
            if not within(t, r, self.ratio_eps):
                return f"layer{k}/stem = {r:.3f}, template {t:.3f} (more than {self.ratio_eps:.0%} apart)"
        return None

    def describe(self) -> dict[str, Any]:
        return {"space": self.name, "stage": 2, "template": asdict(self.template),
                "template_ratios": list(self.template_ratios), "depth_ratio": list(self.depth_ratio),
                "width_ratio": list(self.width_ratio), "neck": list(self.neck), "head": list(self.head),
                "head_depth": list(self.head_depth), "ratio_eps": self.ratio_eps, "min_depth": self.min_depth}


def search_space(stage: int, space: str = "auto", template: dict[str, Any] | None = None, gflops: float = 0.0,
                 eps: float = 0.02, ratio_eps: float | None = None) -> ResNetStage1 | MobileStage1 | Stage2:
    """The space for ``facedet search scrfd``: ``space`` resnet / mobilenet (auto: mobilenet under 2
    GMACs, as the released 0.5G / 1G models), ``template`` an architecture dict (stage 2 needs one);
    stage 2's ratio tolerance is ``ratio_eps``, by default ``5 * eps`` as the released generator."""
    if space == "auto":
        space = (template or {}).get("backbone", "") or ("mobilenet" if 0 < gflops < 2.0 else "resnet")
        space = "mobilenet" if space == "mobilenet" else "resnet"
    if space not in TEMPLATES:
        raise ValueError(f"unknown SCRFD search space {space!r}; known: resnet, mobilenet")
    tmpl = SCRFDConfig.from_dict(template, "--template") if template else None
    if tmpl is not None and (tmpl.backbone == "mobilenet") != (space == "mobilenet"):
        raise ValueError(f"--template has a {tmpl.backbone} backbone, not one of the {space} space")
    if stage == 1:
        base = tmpl or TEMPLATES[space]
        return MobileStage1(template=base) if space == "mobilenet" else ResNetStage1(template=base)
    if stage == 2:
        if tmpl is None:
            raise ValueError("stage 2 scales a chosen backbone: pass --template (a stage-1 candidate or a preset)")
        return Stage2(template=tmpl, name=space, ratio_eps=5 * eps if ratio_eps is None else ratio_eps)
    raise ValueError(f"--stage must be 1 or 2, got {stage}")


def violations(cfg: SCRFDConfig, space: Stage2, gflops: float, eps: float = 0.02) -> list[str]:
    """Why ``cfg`` is not a stage-2 member of ``space`` at ``gflops`` (empty: it is): widths multiples of
    8, neck / head / head depth in range, the budget, and the ratio rule. GN groups are not checked."""
    out = []
    if any(w % 8 for w in cfg.stage_planes):
        out.append(f"widths {cfg.stage_planes} are not multiples of 8")
    for name, v, (lo, hi) in (("neck", cfg.neck_channels, space.neck), ("head", cfg.feat_channels, space.head),
                              ("head depth", cfg.stacked_convs, space.head_depth)):
        if not lo <= v <= hi or (name != "head depth" and v % 8):
            out.append(f"{name} {v} outside [{lo}, {hi}] (multiples of 8)")
    c = count(cfg)
    if not within(c.macs, gflops * 1e9, eps):
        out.append(f"{c.macs / 1e9:.3f} GMACs is not within {eps:.0%} of {gflops}")
    reason = space.check(c)
    if reason:
        out.append(reason)
    return out
