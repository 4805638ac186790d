"""EXTD presets and published numbers.

Naming: ``extd_{neck}_{width}[_{act}]`` with neck in {fpn, ssd}, width in {32, 48, 64} and act in
{leaky, relu}; no suffix means PReLU. ``extd_fpn_{32,48,64}`` are the released models (official
weights load with :func:`facedet.convert.extd.load_extd_official`); the other 15 are the paper's
ablation variants (Table: SSD vs FPN x PReLU / Leaky-ReLU / ReLU x 32 / 48 / 64).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import nn

from .network import EXTD

NECKS = ("fpn", "ssd")
WIDTHS = (32, 48, 64)
ACTS = {"": "prelu", "_leaky": "leaky", "_relu": "relu"}


def _build(neck: str, width: int, act: str, **overrides) -> EXTD:
    return EXTD(width=width, neck=neck, act=act, **overrides)  # type: ignore[arg-type]


PRESETS: dict[str, Callable[..., nn.Module]] = {
    f"extd_{neck}_{width}{suffix}": partial(_build, neck, width, act)
    for neck in NECKS
    for width in WIDTHS
    for suffix, act in ACTS.items()
}

RELEASED = ("extd_fpn_32", "extd_fpn_48", "extd_fpn_64")

# Trainable parameters of the official checkpoints (exact) and the paper's rounded figures.
PARAMS = {"extd_fpn_32": 62_939, "extd_fpn_48": 100_160, "extd_fpn_64": 162_352}
PAPER_PARAMS = {"extd_fpn_32": "0.063M", "extd_fpn_48": "0.1M", "extd_fpn_64": "0.16M"}

# Conv multiply-accumulates (spec §1.3 recount), GMACs at 640x640 and at 640x480 (VGA).
GMACS = {
    "extd_fpn_32": (5.40, 4.05),
    "extd_fpn_48": (7.89, 5.92),
    "extd_fpn_64": (13.41, 10.06),
}

# WIDER FACE val AP (easy, medium, hard). The paper's table could not be read here (spec §1.7):
# only EXTD-FPN-64-PReLU's hard-set gap to PyramidBox (3.4 points) is confirmed -> hard ~ 85.5.
PUBLISHED_AP: dict[str, tuple[float | None, float | None, float | None]] = {
    "extd_fpn_64": (None, None, 85.5),
}


def build_extd(name: str, **overrides) -> EXTD:
    """Model for a preset name; keyword overrides go to :class:`EXTD` (e.g. ``maxout_bg=1``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown EXTD preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name](**overrides)
