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
    g = [{"boxes": torch.tensor([[2.0, 1.0, 14.0, 17.0]])}]  # centre (8, 9), 12 x 16: matched to anchor 0
    reg = torch.zeros(1, 2, 4)
    reg[0, 0, 2] = 1.0  # width 16 * e^(0.2 * 1): the size variance 0.2
    pred_w = 16 * math.exp(0.2)
    loss = crit(_out([[0.0, 0.0]] * 2, reg), g)["loss_box"].item()
    px1, px2 = 8 - pred_w / 2, 8 + pred_w / 2  # predicted box [px1, 0, px2, 16] around the anchor's centre (8, 8)
    inter = 12 * 15  # x: the gt's 12 px lie inside; y: [1, 16]
    iou = inter / (pred_w * 16 + 12 * 16 - inter)
    rho2, c2 = 1.0 ** 2, pred_w ** 2 + 17.0 ** 2  # enclosing box [px1, 0, px2, 17]
    assert px1 < 2 and px2 > 14
    assert loss == pytest.approx(1 - iou + rho2 / c2, rel=1e-5)
    reg[0, 0, 2] = 1e4  # a diverging size delta stays finite (clamped before exp)
    assert math.isfinite(crit(_out([[0.0, 0.0]] * 2, reg), GT)["loss_box"].item())


def test_margin_on_mined_rows_and_not_on_ignored_rows() -> None:
    """Four anchors: 0 the face, 1 ignored (inside an ignore box), 2 and 3 background; one negative is mined
    (the harder one: a margin on the same true class keeps the ranking) and carries the margin in its CE."""
    grid = AnchorGrid((16,), ((16.0,),), (1.0,), (0.5,))
    crit = MultiBoxCriterion(grid, DeltaCoder(), ThresholdMatcher([0.4], [0, 1], force_best=True), neg_pos_ratio=1,
                             ignore_iof_thr=0.5, margin=2.0)
    logits = torch.tensor([[[0.0, 1.0], [0.0, 9.0], [3.0, 1.5], [0.0, 0.9]]])
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 16.0, 16.0]]), "ignore": torch.tensor([[16.0, 0.0, 32.0, 16.0]])}]
    out = HeadOutputs([logits], [torch.zeros(1, 4, 4)], None, [(1, 4)])
    got = crit(out, targets)["loss_cls"].item()
    ce = F.cross_entropy
    want = ce(torch.tensor([[0.0, 1.0 - 2.0], [0.0 - 2.0, 0.9]]), torch.tensor([1, 0]), reduction="sum").item()
    assert got == pytest.approx(want, rel=1e-6)  # the ignored anchor 1 (face logit 9) is neither mined nor margined


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="box_loss"):
        _crit(box_loss="l2")
    with pytest.raises(ValueError, match="margin"):
        _crit(margin=-1.0)
