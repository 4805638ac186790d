"""The detector families, each one :class:`~facedet.families.base.Family` object; this is the only list.

Shared code (the API, export, the command line, the zoo) asks a model's family for its parts with
:func:`family_of` and never compares family names. Adding a family: a folder with its network,
presets, recipe and one ``FAMILY`` value, one line below, and the conformance test
(``tests/families/test_conformance.py``) passing for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..archfile import is_arch_file, read_arch_file
from ..config import Config, ModelConfig, load_yaml
from . import ainnoface, asfd, extd, group_sampling, scrfd
from .base import Family

if TYPE_CHECKING:
    from torch import nn

FAMILIES: dict[str, Family] = {f.name: f for f in (scrfd.FAMILY, extd.FAMILY, group_sampling.FAMILY,
                                                        ainnoface.FAMILY, asfd.FAMILY)}


def family_named(name: str) -> Family:
    """The family called ``name``; ValueError naming the known ones otherwise."""
    if name not in FAMILIES:
        raise ValueError(f"unknown detector family {name!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def family_of(model: nn.Module | str) -> Family:
    """The family of a model (its ``family`` attribute), of a zoo preset name or of an architecture file."""
    if isinstance(model, str):
        if is_arch_file(model):
            return family_named(read_arch_file(model).family)
        for fam in FAMILIES.values():
            if model in fam.zoo:
                return fam
        known = sorted(n for f in FAMILIES.values() for n in f.zoo)
        raise ValueError(f"unknown model {model!r}; known: {', '.join(known)}")
    name = getattr(model, "family", None)
    if not isinstance(name, str):
        raise ValueError(f"{type(model).__name__} declares no detector family (facedet.models.detector.Detector)")
    return family_named(name)


def default_config(preset: str) -> Config:
    """The defaults for training ``preset``: the shared sections and its family's ``loss`` dataclass."""
    return Config(model=ModelConfig(name=preset), loss=family_of(preset).loss_config())


def load_config(path: str | Path, preset: str | None = None) -> Config:
    """A ``config.yaml`` read over the defaults of its model (``preset``, else the file's ``model.name``)."""
    from facedet.config import read_yaml

    data = read_yaml(path)
    name = preset or (data.get("model") or {}).get("name") or ModelConfig().name
    return load_yaml(path, default_config(name))


def guess_preset(path: str | Path) -> str:
    """The zoo preset of an official weights file, asked of every family that can tell; ValueError
    (with each family's reason) when none can."""
    src = Path(path)
    errors = []
    for fam in FAMILIES.values():
        if fam.guess_preset is not None:
            try:
                return fam.guess_preset(src)
            except ValueError as err:
                errors.append(str(err))
    raise ValueError("; ".join(errors) or f"{src}: no family can guess the preset of this file; pass the model name")


__all__ = ["FAMILIES", "Family", "default_config", "family_named", "family_of", "guess_preset", "load_config"]
