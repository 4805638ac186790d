"""Atomic checkpoints with everything a bit-exact resume needs.

A checkpoint holds model, optimiser, schedule, optional EMA, epoch / step counters, the loader
position, the RNG states (python, numpy, torch CPU and CUDA) and the resolved config. It is
written to a temporary file in the same folder and moved into place with ``os.replace``, so a
run killed mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from facedet.atomic import atomic_open


def rng_state() -> dict[str, Any]:
    """Snapshot of the global python / numpy / torch random generators."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),  # noqa: NPY002 - third-party code may use the legacy global
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore a snapshot made by :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_atomic(obj: Any, path: str | Path) -> Path:
    """``torch.save`` through :func:`facedet.atomic.atomic_open` (never a half-written checkpoint)."""
    with atomic_open(path) as fh:
        torch.save(obj, fh)
    return Path(path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by the trainer, safely (:func:`facedet.convert.state.safe_load`)."""
    from facedet.convert.state import safe_load

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    ck = safe_load(path, map_location)
    if not isinstance(ck, dict):
        raise ValueError(f"{path}: not a facedet checkpoint (a {type(ck).__name__})")
    return ck


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The module inside a DDP / DataParallel wrapper."""
    inner = getattr(model, "module", None)
    return inner if isinstance(inner, torch.nn.Module) else model


def _model_state(path: str | Path, use_ema: bool) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The model weights a file holds: an exported ``state_dict`` or a training checkpoint's (EMA) model."""
    ck = load_checkpoint(path)
    if "state_dict" in ck:
        return ck["state_dict"], ck
    if "model" in ck:
        ema = ck.get("ema")
        return (ema if use_ema and ema is not None else ck["model"]), ck
    raise ValueError(f"{path}: holds neither exported weights ('state_dict') nor a training checkpoint ('model')")


def export_weights(ckpt_path: str | Path, out_path: str | Path, half: bool = True, use_ema: bool = True) -> Path:
    """Strip a training checkpoint to a (fp16) model state dict plus its model name and config."""
    state, ckpt = _model_state(ckpt_path, use_ema)
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    meta = {k: ckpt[k] for k in ("config", "epoch", "step", "metrics") if k in ckpt}
    return save_atomic({"state_dict": state, **meta}, out_path)


def average_weights(paths: list[str | Path], out_path: str | Path, half: bool = True, use_ema: bool = True) -> Path:
    """Uniform weight average ("model soup", Wortsman et al. 2022) of runs fine-tuned from one start.

    Each path is an exported weights file or a training checkpoint (its EMA weights unless ``use_ema`` is
    False). Floating tensors are averaged in float32; integer buffers come from the first file, as do the
    config, epoch and step of the written file, which also records ``averaged_from``. Files whose keys or
    shapes differ are refused with the first difference named: averaging only makes sense for one network.
    """
    if len(paths) < 2:
        raise ValueError(f"average_weights needs at least two files, got {len(paths)}")
    first, meta = _model_state(paths[0], use_ema)
    total = {k: v.float().clone() if v.is_floating_point() else v for k, v in first.items()}
    for path in paths[1:]:
        state, _ = _model_state(path, use_ema)
        if state.keys() != first.keys():
            diff = sorted(set(state) ^ set(first))
            raise ValueError(f"{path}: its weights differ from {paths[0]}'s in key {diff[0]!r}")
        for k, v in state.items():
            if v.shape != first[k].shape:
                raise ValueError(f"{path}: {k} has shape {tuple(v.shape)}, {paths[0]} has {tuple(first[k].shape)}")
            if v.is_floating_point():
                total[k] += v.float()
    n = len(paths)
    out: dict[str, torch.Tensor] = {}
    for k, v in total.items():
        if not v.is_floating_point():
            out[k] = v
            continue
        mean = v / n
        out[k] = mean.half() if half else mean.to(first[k].dtype)
    keep = {k: meta[k] for k in ("config", "epoch", "step") if k in meta}
    return save_atomic({"state_dict": out, **keep, "averaged_from": [str(p) for p in paths]}, out_path)


# what a resumed run may change: how long it runs, how it logs and evaluates, where it computes.
# Everything else is part of the state being resumed (the schedule, sampler, RNG and optimiser
# restore over it), so a changed value would be ignored or would break the replay: it is refused.
RESUME_MAY_CHANGE = {
    "train": {"epochs", "max_steps", "log_interval", "save_interval_steps", "threads", "device",
              "flush_denormal", "cpu_channels_last", "cpu_bf16", "amp", "channels_last"},
    "data": {"num_workers"},
    "model": {"init"},
    "eval": None,  # every key
}


def check_resume_config(saved: dict[str, Any], now: dict[str, Any], path: str | Path) -> list[str]:
    """Compare a checkpoint's config with the resumed run's: raise ``ValueError`` listing the changes
    :data:`RESUME_MAY_CHANGE` does not allow; return the allowed ones as ``"key: old -> new"`` lines
    (logged by the caller). An old checkpoint without a config is accepted as is."""
    allowed: list[str] = []
    refused: list[str] = []
    for section, values in now.items():
        old_section = saved.get(section)
        if not isinstance(old_section, dict):
            continue
        may = RESUME_MAY_CHANGE.get(section, set())
        for key, value in values.items():
            if key not in old_section or old_section[key] == value:
                continue
            line = f"{section}.{key}: {old_section[key]!r} -> {value!r}"
            (allowed if may is None or key in may else refused).append(line)
    if refused:
        raise ValueError(f"--resume from {path} cannot change {'; '.join(refused)} (the checkpoint restores "
                         "that state); drop those overrides, or start a new --out with model.init=<that "
                         "checkpoint> to begin from its weights")
    return allowed
