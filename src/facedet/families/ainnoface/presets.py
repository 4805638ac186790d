"""Named AInnoFace / SRN models and the published numbers (spec families.md §4.9).

- ``srn_r50``: the SRN graph (ResNet-50, no max-out): 53.37 M parameters, 394.2 GMACs at 800x800.
- ``ainnoface_r152``: AInnoFace (ResNet-152, max-out on P2): 88.0 M, 234.6 GMACs at 640x480.
- ``ainnoface_r50`` / ``ainnoface_r18``: the same design on smaller backbones, for CPU work; [ours]
  ``ainnoface_r18`` also narrows the FPN and head to 128 channels (a third of the 256-channel head's
  compute: 17.1 against 56.8 conv GMACs at 320x320; 11 s against 32 s a training step of 8 images on one
  thread here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from ...convert.imagenet import import_imagenet_backbone
from ..base import ZooEntry
from .network import AInnoFace, AInnoFaceConfig


def build(depth: int, maxout: bool = True, **overrides: Any) -> AInnoFace:
    """A freshly initialised detector; ``overrides`` replace :class:`AInnoFaceConfig` fields."""
    cfg = AInnoFaceConfig(depth=depth, maxout_levels=(0,) if maxout else ())
    for key in ("widths", "anchor_scales", "maxout_levels", "stc_levels", "str_levels"):
        if key in overrides and overrides[key] is not None:
            overrides[key] = tuple(overrides[key])
    return AInnoFace(replace(cfg, **overrides))


PRESETS: dict[str, Callable[..., AInnoFace]] = {
    "srn_r50": partial(build, 50, False),
    "ainnoface_r152": partial(build, 152),
    "ainnoface_r50": partial(build, 50),
    "ainnoface_r18": partial(build, 18, channels=128),
}

PUBLISHED: dict[str, dict[str, Any]] = {
    "ainnoface_r152": {"easy": 97.0, "medium": 96.1, "hard": 91.8, "test_easy": 96.5, "test_medium": 95.7,
                       "test_hard": 91.2, "params_m": 88.0, "flops_g": 234.6, "flops_size": (640, 480),
                       "source": "Zhang et al., Accurate Face Detection for High Performance (AInnoFace), "
                                 "arXiv 1905.01585, WIDER val / test, multi-scale; size: recount of the SRN graph"},
    "srn_r50": {"easy": 96.5, "medium": 95.3, "hard": 90.2, "params_m": 53.37, "flops_g": 394.2,
                "flops_size": (800, 800),
                "source": "ChiCheng123/SRN README (max_size 2100, multi-scale); size: recount of resnet_srn.py"},
}
WEIGHTS: dict[str, Any] = {}  # neither paper publishes weights we can fetch


def zoo_table() -> dict[str, ZooEntry]:
    """Every preset with its published numbers; the importer takes a torchvision ImageNet ResNet (``model.init``)."""
    return {name: ZooEntry(fn, PUBLISHED.get(name, {}), WEIGHTS.get(name), import_imagenet_backbone)
            for name, fn in PRESETS.items()}
