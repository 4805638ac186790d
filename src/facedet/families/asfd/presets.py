"""Named ASFD models D0–D6, the released DSFD, and the published numbers (spec families.md §2.3, §3.7).

The D-ladder's widths and depths are unpublished; the backbones follow the spec's ladder (MobileNetV1-0.25,
ResNet-18-0.5, ResNet-18, -34, -50, -101, -152) and the rest was fitted with our counter to the paper's Table 4
at 640x480 (``benchmarks/asfd_ladder.py`` prints ours beside the paper's; every row within 5 %).
``asfd_d2`` is lightDSFD's DSFDv2_r18 layout plus a narrow CPM. ``dsfd_r152``: the released DSFD (one shot, as
released and as its published size); ``dsfd_r152_pal``: the same with first-shot heads, to train with DSFD's
progressive anchor loss (the first shot has its own weights there, so it is a separate build).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from torch import nn

from ...convert.imagenet import import_imagenet_backbone
from ...models.necks.autofem import Genotype
from ..base import ZooEntry
from .dsfd import build_dsfd_r152
from .network import ASFD, ASFDConfig

LADDER: dict[str, dict[str, Any]] = {
    "asfd_d0": dict(backbone="mobilenet", channels=24, cpm_channels=12, extra_channels=(64, 224)),
    "asfd_d1": dict(depth=18, widths=(32, 64, 128, 256), channels=40, cpm_channels=24, extra_channels=(128, 320)),
    "asfd_d2": dict(depth=18, channels=120, cpm_channels=48, extra_channels=(64, 128)),
    "asfd_d3": dict(depth=34, channels=176, cpm_channels=128, extra_channels=(64, 128)),
    "asfd_d4": dict(depth=50, channels=256, cpm_channels=64, fpn_repeats=2),
    "asfd_d5": dict(depth=101, channels=384, cpm_channels=96, fpn_repeats=2),
    "asfd_d6": dict(depth=152, channels=320, cpm_channels=128, head_convs=2),
}


def build(name: str, **overrides: Any) -> ASFD:
    """A freshly initialised ``name`` (an ``asfd_d*`` row); ``overrides`` replace :class:`ASFDConfig` fields."""
    for key in ("widths", "mobilenet_planes", "mobilenet_blocks", "extra_channels", "maxout_levels"):
        if key in overrides and overrides[key] is not None:
            overrides[key] = tuple(overrides[key])
    return ASFD(replace(ASFDConfig(aux=False, **LADDER[name]), **overrides))


def from_arch(arch: Mapping[str, Any], **overrides: Any) -> ASFD:
    """An ASFD from an architecture dict (an architecture file's ``arch``): ``preset`` (the D-row to start
    from, ``asfd_d0`` by default), ``genotype`` (a genotype dict, or the path of a ``facedet search autofem``
    genotype file) and any :class:`ASFDConfig` field; e.g. ``{family: asfd, arch: {preset: asfd_d2,
    genotype: runs/search/genotype.json}}`` trains with ``facedet train that.yaml``."""
    fields = dict(arch)
    base = str(fields.pop("preset", "asfd_d0"))
    if base not in LADDER:
        raise ValueError(f"arch.preset must be one of {', '.join(LADDER)}, got {base!r}")
    raw = fields.pop("genotype", None)
    if raw is not None:
        fields["genotype"] = Genotype.from_json(raw) if isinstance(raw, str) else Genotype.from_dict(raw)
    return build(base, **{**fields, **overrides})


def _row(name: str) -> Callable[..., ASFD]:
    def make(**overrides: Any) -> ASFD:
        return build(name, **overrides)
    make.__name__ = f"build_{name}"
    return make


PRESETS: dict[str, Callable[..., nn.Module]] = {name: _row(name) for name in LADDER}
PRESETS["dsfd_r152"] = partial(build_dsfd_r152, aux=False)  # the release: one shot
PRESETS["dsfd_r152_pal"] = partial(build_dsfd_r152, aux=True)  # + first-shot heads for DSFD's progressive anchor loss

_TABLE4 = "Li et al., ASFD, arXiv 2003.11228, Table 4 (WIDER val, single scale; FLOPs = MACs at 640x480)"
_ROWS = {"asfd_d0": (90.1, 87.5, 74.4, 0.62, 0.73), "asfd_d1": (93.3, 91.7, 82.0, 3.90, 4.27),
         "asfd_d2": (95.1, 93.7, 83.6, 13.56, 20.48), "asfd_d3": (95.3, 94.3, 84.8, 26.56, 46.32),
         "asfd_d4": (95.6, 94.5, 85.8, 36.76, 70.45), "asfd_d5": (95.7, 94.7, 85.9, 67.73, 147.40),
         "asfd_d6": (95.8, 94.7, 86.0, 86.10, 183.11)}
PUBLISHED: dict[str, dict[str, Any]] = {
    name: {"easy": e, "medium": m, "hard": h, "params_m": p, "flops_g": f, "flops_size": (640, 480),
           "source": _TABLE4} for name, (e, m, h, p, f) in _ROWS.items()}
PUBLISHED["asfd_d6"]["multi_scale"] = {"val": (97.2, 96.5, 92.5), "test": (96.7, 96.2, 92.1)}
PUBLISHED["dsfd_r152"] = {"easy": 96.6, "medium": 95.7, "hard": 90.4, "params_m": 120.06, "flops_g": 259.55,
                          "flops_size": (640, 480),
                          "source": "Li et al., DSFD, CVPR 2019 (WIDER val, multi-scale); size: ASFD Table 4 / "
                                    "recount of Tencent/FaceDetection-DSFD face_ssd.py"}
PUBLISHED["dsfd_r152_pal"] = PUBLISHED["dsfd_r152"]
WEIGHTS: dict[str, Any] = {}  # no ASFD weights are published; DSFD's sit behind a share link (not fetched)


def zoo_table() -> dict[str, ZooEntry]:
    """Every preset with the paper's numbers; the importer takes a torchvision ImageNet ResNet (``model.init``)."""
    return {name: ZooEntry(fn, PUBLISHED.get(name, {}), WEIGHTS.get(name), import_imagenet_backbone)
            for name, fn in PRESETS.items()}
