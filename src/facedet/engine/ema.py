"""Exponential moving average of model weights (optional in the trainer).

The decay ramps up as ``decay * (1 - exp(-updates / ramp))`` (YOLOX style) so the early average
is not dominated by the random initialisation. Buffers (BN statistics) are copied, not averaged.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


class ModelEMA:
    """Keeps ``self.module``, a frozen copy of the model updated after every optimiser step."""

    def __init__(self, model: nn.Module, decay: float = 0.9998, ramp: float = 2000.0) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.ramp = ramp
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        src = model.state_dict()
        for name, value in self.module.state_dict().items():
            new = src[name].detach()
            if value.is_floating_point():
                value.mul_(d).add_(new.to(value.dtype), alpha=1 - d)
            else:
                value.copy_(new)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor], updates: int) -> None:
        self.module.load_state_dict(state)
        self.updates = updates
