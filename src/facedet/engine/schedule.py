"""Learning-rate schedule: linear warm-up, then multi-step or cosine decay (mmdet semantics).

The schedule is a pure function of the global step, so resuming needs only the step count; the
object still has ``state_dict`` for symmetry with optimisers. Warm-up follows mmdet's linear rule
``lr = base * (1 - (1 - ratio) * (1 - it / warmup_iters))`` and multiplies whatever the main
schedule gives at that step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


class WarmupSchedule:
    """Sets every param group's ``lr`` to ``initial_lr * factor(step)`` on each :meth:`step`."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        iters_per_epoch: int,
        epochs: int,
        kind: str = "step",
        milestones: Sequence[int] = (),
        gamma: float = 0.1,
        warmup_iters: int = 0,
        warmup_ratio: float = 0.001,
        min_lr_ratio: float = 0.0,
        milestone_iters: Sequence[int] = (),
    ) -> None:
        if kind not in ("step", "cosine"):
            raise ValueError(f"unknown schedule {kind!r}; choose 'step' or 'cosine'")
        if iters_per_epoch <= 0:
            raise ValueError("iters_per_epoch must be positive (is the training set empty?)")
        self.optimizer = optimizer
        self.iters_per_epoch = iters_per_epoch
        self.total = iters_per_epoch * epochs
        self.kind = kind
        self.milestones = sorted(int(m) for m in milestones)
        self.milestone_iters = sorted(int(m) for m in milestone_iters)  # iteration-based recipes (EXTD)
        self.gamma = gamma
        self.warmup_iters = warmup_iters
        self.warmup_ratio = warmup_ratio
        self.min_lr_ratio = min_lr_ratio
        self.last_step = 0
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self._apply()

    def factor(self, step: int) -> float:
        """Multiplier of the base lr at global ``step`` (0-based iteration about to run)."""
        if self.kind == "step" and self.milestone_iters:
            f = self.gamma ** sum(step >= m for m in self.milestone_iters)
        elif self.kind == "step":
            epoch = step // self.iters_per_epoch
            f = self.gamma ** sum(epoch >= m for m in self.milestones)
        else:
            progress = min(step / max(self.total, 1), 1.0)
            f = self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        if step < self.warmup_iters:
            f *= 1 - (1 - self.warmup_ratio) * (1 - step / self.warmup_iters)
        return f

    def _apply(self) -> None:
        f = self.factor(self.last_step)
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * f

    def step(self) -> None:
        """Advance one iteration (call after ``optimizer.step()``)."""
        self.last_step += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, int]:
        return {"last_step": self.last_step}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.last_step = int(state["last_step"])
        self._apply()
