"""Named Group Sampling models ``gs_<variant>_r{18,50,152}[_rcnn]`` and the paper's published numbers.

Backbone level of the single-level variants: P2 for R50 (the paper's ablations), P3 for R18 and
R152 (Table 15 note: "Our model which based on ResNet-152 is a single stage detector only using
the P3 ... and so does the same for our model based on ResNet-18"; Table 10's 29.73 GFLOPs for
R18 FPN-finest-sampling only fits P3). Override with ``build_model(name, level=2)``.
Parameter counts of the paper include torchvision's unused ImageNet ``fc`` (``with_fc=True``
reproduces them); our presets drop it (``with_fc=False``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from ...convert.imagenet import import_imagenet_backbone
from ..base import ZooEntry
from .network import VARIANTS, GroupSamplingDetector, GSConfig

DEPTH_LEVEL = {18: 3, 50: 2, 152: 3}


def build(variant: str, depth: int, **overrides: Any) -> GroupSamplingDetector:
    """A freshly initialised detector; ``overrides`` replace :class:`GSConfig` fields."""
    cfg = GSConfig(variant=variant, depth=depth, level=DEPTH_LEVEL.get(depth, 2))  # type: ignore[arg-type]
    for key in ("widths", "anchor_sizes", "anchor_strides", "dilations", "stage_planes", "stage_blocks"):
        if key in overrides and overrides[key] is not None:
            overrides[key] = tuple(overrides[key])
    return GroupSamplingDetector(replace(cfg, **overrides))


PRESETS: dict[str, Callable[..., GroupSamplingDetector]] = {
    f"gs_{v}_r{d}": partial(build, v, d) for v in VARIANTS for d in (18, 50, 152)
}
# + grouped Fast R-CNN (paper Table 13, "final"): the same detectors with the second stage
PRESETS.update({f"{name}_rcnn": partial(fn, second_stage=True) for name, fn in list(PRESETS.items())})

_PAPER = "Ming et al., Group Sampling for Scale Invariant Face Detection, TPAMI 2022"
PUBLISHED: dict[str, dict[str, Any]] = {
    "gs_fpn_r50": {"easy": 90.9, "medium": 91.3, "hard": 87.6, "all": 82.1, "all_gs": 83.6,
                   "flops_g": 88.92, "flops_size": (800, 800),
                   "source": f"{_PAPER}, Tables 3, 5, 11 (FPN, no GS; all_gs = FPN+GS)"},
    "gs_fpn_finest_r50": {"easy": 94.7, "medium": 93.8, "hard": 88.7, "all": 82.8,
                          "at16": 74.1, "at32": 72.9, "at64": 47.8, "at128": 24.5,
                          "params_m": 27.1, "flops_g": 81.3, "flops_size": (800, 800),
                          "source": f"{_PAPER}, Tables 3, 11, 15 (FPN-finest-sampling; params with the fc)"},
    "gs_fpn_finest_stride_r50": {"easy": 87.6, "medium": 89.1, "hard": 88.2, "all": 83.5,
                                 "source": f"{_PAPER}, Table 3 (FPN-finest-stride-sampling)"},
    "gs_fpn_finest_dc_r50": {"easy": 94.9, "medium": 94.0, "hard": 89.3, "all": 83.7,
                             "wrs": {"easy": 95.1, "medium": 94.9, "hard": 89.5, "all": 84.5},
                             "final_fast_rcnn_gs": {"easy": 96.2, "medium": 95.5, "hard": 91.1, "all": 85.7},
                             "source": f"{_PAPER}, Tables 3, 13 (DC-sampling / DC-WRS / + grouped Fast R-CNN)"},
    "gs_fpn_finest_r18": {"easy": 92.2, "medium": 91.3, "hard": 85.1, "all": 76.0, "params_m": 12.5,
                          "flops_g": 29.8, "flops_size": (800, 800),
                          "source": f"{_PAPER}, Tables 10, 15 (P3; params include the ImageNet fc)"},
    "gs_fpn_finest_r152": {"easy": 96.5, "medium": 95.9, "hard": 91.7, "params_m": 61.7, "flops_g": 155.7,
                           "flops_size": (800, 800),
                           "source": f"{_PAPER}, §7, Table 15 (P3, flip + multi-scale test; params include the fc)"},
}
WEIGHTS: dict[str, Any] = {}  # no official weights are published


def zoo_table() -> dict[str, ZooEntry]:
    """Every Group Sampling preset with the paper's numbers; the importer takes a torchvision ImageNet ResNet."""
    return {name: ZooEntry(build, PUBLISHED.get(name, {}), WEIGHTS.get(name), import_imagenet_backbone)
            for name, build in PRESETS.items()}
