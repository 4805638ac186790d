"""Read a state dict out of a checkpoint file, whatever wrapper the file uses.

Shared by the zoo (our ``.pt``), the EXTD importer (official ``.pth``) and the torchvision
ResNet loader: unwraps ``{"model"|"state_dict"|"weight": ...}`` checkpoint dicts and strips
DataParallel's ``module.`` prefix.

Every file is read with :func:`safe_load`: ``torch.load(weights_only=True)``, which unpickles tensors,
containers and plain values only, plus the numpy array types our checkpoints hold (the RNG states).
A file that needs anything else (arbitrary classes: code that would run on load) is refused.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

WRAPPER_KEYS = ("model", "state_dict", "weight")
# numpy's array reconstruction, for np.random.get_state() inside our training checkpoints
SAFE_NUMPY = (np._core.multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32)))


def safe_load(path: str | Path, map_location: str | torch.device = "cpu") -> object:
    """``torch.load`` restricted to tensors, plain values and numpy arrays; ValueError naming the file
    when it holds anything else (a pickle that could run code is never executed)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with torch.serialization.safe_globals(list(SAFE_NUMPY)):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: refused to load: the file holds objects other than tensors and plain "
                         f"values, and unpickling them could run code ({first})") from None


def read_state_dict(path: str | Path) -> OrderedDict[str, torch.Tensor]:
    """The state dict stored in ``path``; FileNotFoundError or ValueError (naming the file) otherwise."""
    path = Path(path)
    obj = safe_load(path)
    if isinstance(obj, Mapping):
        for key in WRAPPER_KEYS:
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path}: expected a state dict or a checkpoint dict, got {type(obj).__name__}")
    return OrderedDict((k.removeprefix("module."), v) for k, v in obj.items())
