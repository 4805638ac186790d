"""Import the official EXTD checkpoints (clovaai/EXTD_Pytorch ``weights/EXTD_{32,48,64}.pth``).

The official module tree is ``base.{0..K}`` (stem, entry block, shared group blocks, each an
``nn.Sequential`` called ``conv``), ``upfeat.{0..4}``, ``loc.{0..5}``, ``conf.{0..5}``. Keys are
renamed by an explicit table onto :class:`facedet.families.extd.EXTD`; the import is strict: every
checkpoint key must map onto a model key of the same shape and every model key must be filled,
otherwise a ValueError lists what disagrees.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from ...convert.state import read_state_dict

STEM = {"0": "conv", "1": "bn", "2": "act"}
ENTRY = {"0": "dw", "1": "bn1", "2": "act1", "3": "pw", "4": "bn2", "5": "act2"}
BLOCK = {
    "0": "expand", "1": "bn1", "2": "act1", "3": "dw", "4": "bn2", "5": "act2",
    "6": "project", "7": "bn3", "8": "act3",
}
UP = {"0": "dw", "1": "pw", "2": "bn"}

_PATTERNS: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"base\.0\.(\d+)\.(.+)"), lambda m: f"stem.{STEM[m[1]]}.{m[2]}"),
    (re.compile(r"base\.1\.conv\.(\d+)\.(.+)"), lambda m: f"entry.{ENTRY[m[1]]}.{m[2]}"),
    (re.compile(r"base\.(\d+)\.conv\.(\d+)\.(.+)"), lambda m: f"group.{int(m[1]) - 2}.{BLOCK[m[2]]}.{m[3]}"),
    (re.compile(r"upfeat\.(\d+)\.(\d+)\.(.+)"), lambda m: f"upfeat.{m[1]}.{UP[m[2]]}.{m[3]}"),
    (re.compile(r"(loc|conf)\.(\d+)\.(weight|bias)"), lambda m: m[0]),
]


def official_key_to_ours(key: str) -> str:
    """Our parameter/buffer name for an official checkpoint key; ValueError if it has no mapping."""
    for pattern, rename in _PATTERNS:
        m = pattern.fullmatch(key)
        if m is not None:
            try:
                return rename(m)  # type: ignore[operator]
            except KeyError:
                break
    raise ValueError(f"official EXTD key {key!r} has no mapping onto facedet's EXTD")


def read_official_state(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """State dict from an official file: bare state dict, ``{'epoch', 'weight'}`` train checkpoint,
    with or without DataParallel's ``module.`` prefix."""
    return read_state_dict(path)


def convert_extd_state(official: dict[str, torch.Tensor], model: nn.Module) -> OrderedDict[str, torch.Tensor]:
    """Renamed state dict for ``model``; strict on names and shapes (ValueError listing every problem)."""
    target = model.state_dict()
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    problems: list[str] = []
    for key, value in official.items():
        try:
            ours = official_key_to_ours(key)
        except ValueError as err:
            problems.append(str(err))
            continue
        if ours not in target:
            problems.append(f"{key} -> {ours}: not in the model (wrong width/activation/neck preset?)")
        elif tuple(target[ours].shape) != tuple(value.shape):
            problems.append(f"{key} -> {ours}: shape {tuple(value.shape)} != model {tuple(target[ours].shape)}")
        else:
            out[ours] = value
    missing = [k for k in target if k not in out]
    if missing:
        problems.append(f"model keys not filled by the checkpoint: {missing[:8]}{' ...' if len(missing) > 8 else ''}")
    if problems:
        raise ValueError("EXTD checkpoint does not match the model:\n  " + "\n  ".join(problems))
    return out


def load_extd_official(model: nn.Module, path: str | Path) -> nn.Module:
    """Load an official ``EXTD_*.pth`` into ``model`` (strict name mapping); returns the model."""
    try:
        state = convert_extd_state(read_official_state(path), model)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    model.load_state_dict(state, strict=True)
    return model


def extd_from_official(path: str | Path) -> nn.Module:
    """Build the matching released preset (width read from the checkpoint) and load it, in eval mode."""
    from .presets import build_extd

    state = read_official_state(path)
    if "loc.0.weight" not in state:
        raise ValueError(f"{path}: no 'loc.0.weight'; not an official EXTD checkpoint")
    width = int(state["loc.0.weight"].shape[1])
    model = build_extd(f"extd_fpn_{width}")
    model.load_state_dict(convert_extd_state(state, model), strict=True)
    return model.eval()
