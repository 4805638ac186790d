"""EXTD presets and published numbers.

Naming: ``extd_{neck}_{width}[_{act}]`` with neck in {fpn, ssd}, width in {32, 48, 64} and act in
{leaky, relu}; no suffix means PReLU. ``extd_fpn_{32,48,64}`` are the released models (official
weights load with :func:`facedet.families.extd.convert.load_extd_official`); the other 15 are the paper's
ablation variants (Table: SSD vs FPN x PReLU / Leaky-ReLU / ReLU x 32 / 48 / 64).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from ..base import WeightSource, ZooEntry
from .network import EXTD

NECKS = ("fpn", "ssd")
WIDTHS = (32, 48, 64)
ACTS = {"": "prelu", "_leaky": "leaky", "_relu": "relu"}


def _build(neck: str, width: int, act: str, **overrides) -> EXTD:
    return EXTD(width=width, neck=neck, act=act, **overrides)  # type: ignore[arg-type]


PRESETS: dict[str, Callable[..., EXTD]] = {
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


_REPO = "https://github.com/clovaai/EXTD_Pytorch"
_SHA256 = {  # the files in clovaai/EXTD_Pytorch@e99af10f weights/ (MIT)
    "extd_fpn_32": "36a0e68ae5dda995b5efe9ab457ee0c5276ae09a8e93e3a25d20aeae2582d446",
    "extd_fpn_48": "3f05368c0d39a55c637b2fa7ef06a8626efb11f9cba1c3da057c5dd4f32982e3",
    "extd_fpn_64": "34f9b1eea0b9d477c8409ea236562662c29062553d6fd84a594530b087baefe2",
}


def _published() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name in RELEASED:
        e, m, h = PUBLISHED_AP.get(name, (None, None, None))
        out[name] = {
            "easy": e, "medium": m, "hard": h, "params_exact": PARAMS[name], "params_paper": PAPER_PARAMS[name],
            "macs_g_640": GMACS[name][0], "macs_g_vga": GMACS[name][1],
            "source": f"arXiv 1906.06579; params from the official checkpoints ({_REPO})",
            "note": "WIDER val AP table of the paper not verified; hard ~85.5 inferred from the text",
        }
    return out


def _weights() -> dict[str, WeightSource]:
    """Zoo weight sources (official .pth; loaded by :func:`.convert.load_extd_official`)."""
    width = {"extd_fpn_32": 32, "extd_fpn_48": 48, "extd_fpn_64": 64}
    return {
        name: WeightSource(
            filename=f"EXTD_{w}.pth",
            url=f"https://raw.githubusercontent.com/clovaai/EXTD_Pytorch/master/weights/EXTD_{w}.pth",
            sha256=_SHA256[name], page=_REPO,
            note="official state dict (clovaai names): imported by facedet.families.extd.convert.load_extd_official",
        )
        for name, w in width.items()
    }


PUBLISHED = _published()
WEIGHTS = _weights()


def zoo_table() -> dict[str, ZooEntry]:
    """Every EXTD preset; the released ones with their numbers, official weights and importer."""
    from .convert import load_extd_official

    return {name: ZooEntry(build, PUBLISHED.get(name, {}), WEIGHTS.get(name), load_extd_official)
            for name, build in PRESETS.items()}


def build_extd(name: str, **overrides) -> EXTD:
    """Model for a preset name; keyword overrides go to :class:`EXTD` (e.g. ``maxout_bg=1``)."""
    if name not in PRESETS:
        raise ValueError(f"unknown EXTD preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name](**overrides)
