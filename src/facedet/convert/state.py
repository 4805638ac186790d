"""Read a state dict out of a checkpoint file, whatever wrapper the file uses.

Shared by the zoo (our ``.pt``), the EXTD importer (official ``.pth``) and the torchvision
ResNet loader: unwraps ``{"model"|"state_dict"|"weight": ...}`` checkpoint dicts and strips
DataParallel's ``module.`` prefix.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch

WRAPPER_KEYS = ("model", "state_dict", "weight")


def read_state_dict(path: str | Path, weights_only: bool = True) -> OrderedDict[str, torch.Tensor]:
    """The state dict stored in ``path``; FileNotFoundError or ValueError (naming the file) otherwise.

    ``weights_only=False`` is for our own checkpoints, which also pickle their config.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    obj = torch.load(path, map_location="cpu", weights_only=weights_only)
    if isinstance(obj, Mapping):
        for key in WRAPPER_KEYS:
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path}: expected a state dict or a checkpoint dict, got {type(obj).__name__}")
    return OrderedDict((k.removeprefix("module."), v) for k, v in obj.items())
