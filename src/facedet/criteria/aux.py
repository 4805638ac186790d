"""Auxiliary outputs, DETR-style: the same kind of criterion applied to ``HeadOutputs.aux`` (DSFD/ASFD's
first shot, SRN/AInnoFace's first step), its terms logged with an ``_aux`` suffix and its loss added
with its own weight. Whether a model returns ``aux`` is fixed when it is built (a constructor flag),
never by train/eval mode, so the export and evaluation build simply has none.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..models.outputs import HeadOutputs
from ..samplers.stream import rng_state_of, set_rng_state_of


class AuxCriterion(nn.Module):
    """``loss = base(outputs) + weight * aux(outputs.aux)``; ``aux`` defaults to ``base`` (same priors).

    Give ``aux`` its own criterion when the auxiliary outputs have other priors (DSFD's first-shot
    anchors are half the size of the second shot's). Outputs without ``aux`` raise: the model was
    built without its auxiliary branch, which a training run that asked for one should not hide.
    """

    def __init__(self, base: nn.Module, weight: float = 1.0, aux: nn.Module | None = None) -> None:
        super().__init__()
        self.base, self.weight = base, float(weight)
        self.aux = aux if aux is not None else base

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        if outputs.aux is None:
            raise ValueError("AuxCriterion: the outputs carry no aux part; build the model with its auxiliary branch")
        main = self.base(outputs, targets)
        extra = self.aux(outputs.aux, targets)
        out = dict(main)
        out.update({f"{k}_aux": v for k, v in extra.items() if k != "loss"})
        out["loss_aux"] = extra["loss"].detach()
        out["loss"] = main["loss"] + self.weight * extra["loss"]
        return out

    def rng_state(self) -> object:
        """Sampling streams of the wrapped criteria (checkpointed by the trainer)."""
        return {"base": rng_state_of(self.base), "aux": None if self.aux is self.base else rng_state_of(self.aux)}

    def set_rng_state(self, state: dict[str, object]) -> None:
        set_rng_state_of(self.base, state.get("base"))
        if self.aux is not self.base:
            set_rng_state_of(self.aux, state.get("aux"))
