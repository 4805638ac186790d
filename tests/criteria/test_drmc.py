"""DRMC as MultiBoxCriterion settings (ASFD): the cosine margin on the true class and DIoU on decoded boxes,
on hand-made anchors and logits."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from facedet.assigners.threshold import ThresholdMatcher
from facedet.coders import DeltaCoder
from facedet.criteria.multibox import MultiBoxCriterion
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid

# one level, stride 16, a 1 x 2 map: anchors [0, 0, 16, 16] and [16, 0, 32, 16]
GRID = AnchorGrid((16,), ((16.0,),), (1.0,), (0.5,))
GT = [{"boxes": torch.tensor([[0.0, 0.0, 16.0, 16.0]])}]


def _crit(**kw) -> MultiBoxCriterion:
    return MultiBoxCriterion(GRID, DeltaCoder(), ThresholdMatcher([0.4], [0, 1], force_best=True), neg_pos_ratio=1,
                             **kw)


def _out(cls: list[list[float]], reg: torch.Tensor | None = None) -> HeadOutputs:
    r = torch.zeros(1, 2, 4) if reg is None else reg
    return HeadOutputs([torch.tensor([cls])], [r], None, [(1, 2)])


def test_margin_is_taken_off_the_true_class_logit() -> None:
    logits = [[0.5, 2.0], [1.0, 0.2]]  # anchor 0: the face (label 1); anchor 1: mined background (label 0)
    m = 3.2  # s * m = 16 * 0.2
    got = _crit(margin=m)(_out(logits), GT)["loss_cls"]
    want = F.cross_entropy(torch.tensor([[0.5, 2.0 - m], [1.0 - m, 0.2]]), torch.tensor([1, 0]), reduction="sum")
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    plain = _crit()(_out(logits), GT)["loss_cls"]
    assert plain.item() == pytest.approx(
        F.cross_entropy(torch.tensor(logits), torch.tensor([1, 0]), reduction="sum").item(), rel=1e-6)
    assert got > plain


def test_diou_on_decoded_boxes_hand_computed() -> None:
    crit = _crit(box_loss="diou")
    assert crit(_out([[0.0, 0.0]] * 2), GT)["loss_box"].item() == pytest.approx(0.0, abs=1e-6)  # the anchor itself
    reg = torch.zeros(1, 2, 4)
    reg[0, 0, 0] = 2.5  # centre moved by 2.5 * 0.1 * 16 = 4 px: box [4, 0, 20, 16]
    loss = crit(_out([[0.0, 0.0]] * 2, reg), GT)["loss_box"].item()
    iou = (12 * 16) / (2 * 256 - 12 * 16)
    rho2, c2 = 4.0 ** 2, 20.0 ** 2 + 16.0 ** 2  # centre distance; the enclosing box [0, 0, 20, 16]
    assert loss == pytest.approx(1 - iou + rho2 / c2, rel=1e-5)
    reg[0, 0, 2] = 1e4  # a diverging size delta stays finite (clamped before exp)
    assert math.isfinite(crit(_out([[0.0, 0.0]] * 2, reg), GT)["loss_box"].item())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="box_loss"):
        _crit(box_loss="l2")
    with pytest.raises(ValueError, match="margin"):
        _crit(margin=-1.0)
