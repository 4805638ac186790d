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
        text = str(err)
        if "unsupported global" not in text.lower():
            raise ValueError(f"{path}: not a PyTorch checkpoint (corrupt, truncated or another format)") from None
        lines = [ln for ln in text.strip().splitlines() if "GLOBAL" in ln or "global" in ln]
        what = lines[0].strip() if lines else "an object that is not a tensor or a plain value"
        raise ValueError(f"{path}: refused to load: the file holds objects other than tensors and plain "
                         f"values, and unpickling them could run code ({what})") from None
    except Exception as err:  # noqa: BLE001 - a file torch cannot parse (truncated zip, stray bytes)
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({first})") from None


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
