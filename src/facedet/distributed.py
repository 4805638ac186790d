"""Process-group helpers for DDP under ``torchrun`` (gloo on CPU, NCCL on CUDA).

Everything degrades to single-process no-ops when no process group is initialised, so the
trainer and criterion call these unconditionally.
"""

from __future__ import annotations

import os
from datetime import timedelta

import torch
import torch.distributed as dist


def is_dist() -> bool:
    """True inside an initialised process group."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_dist() else 0


def world_size() -> int:
    return dist.get_world_size() if is_dist() else 1


def is_main() -> bool:
    return rank() == 0


def init_from_env(device: str = "auto") -> torch.device:
    """Join the process group that ``torchrun`` describes in ``RANK``/``WORLD_SIZE``; pick the device.

    Without those variables this only resolves the device. Backend: NCCL when the device is CUDA,
    gloo otherwise.
    """
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    dev = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if int(os.environ.get("WORLD_SIZE", 1)) > 1 and not is_dist():
        dist.init_process_group(
            backend="nccl" if use_cuda else "gloo", init_method="env://", timeout=timedelta(minutes=30)
        )
    return dev


def cleanup() -> None:
    """Destroy the process group if one exists."""
    if is_dist():
        dist.destroy_process_group()


def barrier() -> None:
    if is_dist():
        dist.barrier()


def reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """Mean of a tensor over processes (identity when single-process); not differentiable."""
    if not is_dist():
        return value
    out = value.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / world_size()


def broadcast_object(obj: object, src: int = 0) -> object:
    """Send a picklable object from ``src`` to every rank."""
    if not is_dist():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]
