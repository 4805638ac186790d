"""Optimiser factories for the trainer: ``factory(model, train_cfg) -> Optimizer | [Optimizer, ...]``.

The trainer schedules the learning rate of the FIRST optimiser (warm-up and steps) and steps every
optimiser in its default ``train_step``; a search trainer overrides ``train_step`` to alternate them
(weights by SGD on the training split, architecture parameters by Adam on a held-out one).
``train.optimizer`` names the default factory (``sgd`` | ``adam`` | ``adamw``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from torch.optim import Optimizer

from ..config import TrainConfig

Params = Iterable[nn.Parameter] | Iterable[dict]
OptimizerFactory = Callable[[nn.Module, TrainConfig], Optimizer | Sequence[Optimizer]]


def sgd_params(params: Params, tc: TrainConfig) -> Optimizer:
    """SGD with the run's lr, momentum and weight decay (the released SCRFD / EXTD / GS setting)."""
    return torch.optim.SGD(params, lr=tc.lr, momentum=tc.momentum, weight_decay=tc.weight_decay)


def adam_params(params: Params, tc: TrainConfig) -> Optimizer:
    """Adam with the run's lr and L2 weight decay (PyTorch's betas)."""
    return torch.optim.Adam(params, lr=tc.lr, weight_decay=tc.weight_decay)


def adamw_params(params: Params, tc: TrainConfig) -> Optimizer:
    return torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)


_BY_NAME: dict[str, Callable[[Params, TrainConfig], Optimizer]] = {
    "sgd": sgd_params, "adam": adam_params, "adamw": adamw_params,
}


def by_name(name: str) -> OptimizerFactory:
    """The factory of ``train.optimizer``; ValueError naming the known ones."""
    if name not in _BY_NAME:
        raise ValueError(f"train.optimizer={name!r}: choose one of {', '.join(_BY_NAME)}")
    make = _BY_NAME[name]
    return lambda model, tc: make([p for p in model.parameters() if p.requires_grad], tc)


def split(second: Callable[[str, nn.Parameter], bool],
          first_factory: Callable[[Params, TrainConfig], Optimizer] = sgd_params,
          second_factory: Callable[[Params, TrainConfig], Optimizer] = adam_params,
          second_cfg: TrainConfig | None = None) -> OptimizerFactory:
    """One optimiser per parameter group: parameters for which ``second(name, p)`` holds go to
    ``second_factory`` (with ``second_cfg``, default the run's), the rest to ``first_factory``
    (the scheduled one). ValueError when either group would be empty."""

    def make(model: nn.Module, tc: TrainConfig) -> list[Optimizer]:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        b = [p for n, p in named if second(n, p)]
        a = [p for n, p in named if not second(n, p)]
        if not a or not b:
            raise ValueError(f"split optimiser: {len(a)} parameters for the first, {len(b)} for the second")
        return [first_factory(a, tc), second_factory(b, second_cfg or tc)]

    return make
