"""AuxCriterion: the base criterion applied again to ``HeadOutputs.aux`` with its own weight."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from facedet.criteria import AuxCriterion
from facedet.models.outputs import HeadOutputs


class SumCriterion(nn.Module):
    """loss = scale * sum of the cls logits (so the expected totals can be written by hand)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, out: HeadOutputs, targets: list) -> dict[str, torch.Tensor]:
        s = self.scale * sum(c.sum() for c in out.cls)
        return {"loss": s, "loss_cls": s.detach()}


def _outputs(main: float, first: float | None) -> HeadOutputs:
    aux = None if first is None else HeadOutputs([torch.full((1, 2, 1), first, requires_grad=True)], [], None, [(1, 2)])
    return HeadOutputs([torch.full((1, 2, 1), main, requires_grad=True)], [], None, [(1, 2)], aux=aux)


def test_aux_terms_are_added_with_their_weight_and_logged() -> None:
    out = _outputs(1.0, 3.0)  # main loss 2, aux loss 6
    losses = AuxCriterion(SumCriterion(), weight=0.5)(out, [])
    assert float(losses["loss"]) == pytest.approx(2.0 + 0.5 * 6.0)
    assert float(losses["loss_cls"]) == 2.0 and float(losses["loss_cls_aux"]) == 6.0
    assert float(losses["loss_aux"]) == 6.0
    losses["loss"].backward()
    assert out.cls[0].grad.tolist() == [[[1.0], [1.0]]] and out.aux.cls[0].grad.tolist() == [[[0.5], [0.5]]]


def test_aux_outputs_may_have_their_own_criterion() -> None:
    """DSFD's first shot has anchors half the size of the second's: its own criterion, its own priors."""
    losses = AuxCriterion(SumCriterion(), weight=1.0, aux=SumCriterion(scale=10.0))(_outputs(1.0, 1.0), [])
    assert float(losses["loss"]) == pytest.approx(2.0 + 20.0)


def test_outputs_without_aux_are_refused() -> None:
    with pytest.raises(ValueError, match="no aux part"):
        AuxCriterion(SumCriterion())(_outputs(1.0, None), [])
