"""SRN / AInnoFace two-step criterion on hand-made anchors: the STC filter keeps easy negatives out of the
second step, STR matches and encodes the second step on the refined anchors, and the loss values."""

from __future__ import annotations

import math

import torch

from facedet.coders import VARIANCE_FREE, DeltaCoder
from facedet.criteria.two_step import TwoStepCriterion
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid

# level 0 (stride 8, STC): anchors [0,0,8,8] and [8,0,16,8]; level 1 (stride 16, STR): [0,0,16,16]
GRID = AnchorGrid((8, 16), ((8.0,), (16.0,)), offsets=(0.5,))
SIZES = [(1, 2), (1, 1)]
FACE = torch.tensor([[16.0, 16.0, 32.0, 32.0]])  # IoU 0 with every anchor; the STR anchor moved by (1, 1) hits it


def _outputs() -> tuple[HeadOutputs, list[torch.Tensor]]:
    cls1 = torch.tensor([[[-10.0], [0.0]]]), torch.tensor([[[0.0]]])
    reg1 = torch.zeros(1, 2, 4), torch.tensor([[[1.0, 1.0, 0.0, 0.0]]])
    cls2 = torch.zeros(1, 2, 1), torch.zeros(1, 1, 1)
    reg2 = torch.zeros(1, 2, 4), torch.zeros(1, 1, 4)
    leaves = [t.clone().requires_grad_(True) for t in (*cls1, *reg1, *cls2, *reg2)]
    c1a, c1b, r1a, r1b, c2a, c2b, r2a, r2b = leaves
    first = HeadOutputs([c1a, c1b], [r1a, r1b], None, SIZES)
    return HeadOutputs([c2a, c2b], [r2a, r2b], None, SIZES, aux=first), leaves


def _criterion() -> TwoStepCriterion:
    return TwoStepCriterion(GRID, DeltaCoder(VARIANCE_FREE), stc_levels=(0,), str_levels=(1,))


def test_str_matches_the_second_step_on_the_refined_anchors() -> None:
    crit = _criterion()
    anchors = GRID.boxes(SIZES)
    on_stc, on_str = crit.level_masks(SIZES, anchors.device)
    assert on_stc.tolist() == [True, True, False] and on_str.tolist() == [False, False, True]
    reg1 = torch.tensor([[[0.0] * 4, [0.0] * 4, [1.0, 1.0, 0.0, 0.0]]])
    refined = crit.refine(reg1, anchors, on_str)
    assert torch.allclose(refined[0, 2], FACE[0]) and torch.equal(refined[0, :2], anchors[:2])
    labels1, _, labels2, gt2 = crit.assign(anchors, refined, [{"boxes": FACE}])
    assert labels1.tolist() == [[0, 0, 0]]  # IoU 0 with the raw anchors: step-1 background
    assert labels2.tolist() == [[0, 0, 1]] and torch.equal(gt2[0, 2], FACE[0])


def test_stc_drops_easy_negatives_from_the_second_step_and_losses_match_hand_values() -> None:
    out, leaves = _outputs()
    losses = _criterion()(out, [{"boxes": FACE}])
    ln2 = math.log(2.0)
    bg_at_half = 0.75 * 0.25 * ln2  # background focal loss at p = 0.5
    p = 1 / (1 + math.exp(10.0))
    # step 1 classifies the STC level only (two background anchors); no positives: N1 clamps to 1
    assert abs(float(losses["loss_cls1"]) - (bg_at_half + 0.75 * p**2 * -math.log(1 - p))) < 1e-6
    assert float(losses["loss_box1"]) == 0.0
    # step 2: anchor 0 is filtered (first-step face prob < 0.01); anchor 1 background, anchor 2 the face
    assert abs(float(losses["loss_cls2"]) - (bg_at_half + 0.25 * 0.25 * ln2)) < 1e-6
    assert abs(float(losses["loss_box2"])) < 1e-6  # zero deltas on the refined anchor give the face: -ln 1
    losses["loss"].backward()
    c1a, c1b, r1a, r1b, c2a, c2b, r2a, r2b = leaves
    assert float(c2a.grad[0, 0, 0]) == 0.0 and float(c2a.grad[0, 1, 0]) != 0.0  # the STC gate
    assert float(c2b.grad[0, 0, 0]) < 0  # the positive's logit is pushed up
    assert c1b.grad is None or float(c1b.grad.abs().sum()) == 0.0  # step 1 does not classify on STR levels
    assert r1b.grad is None or float(r1b.grad.abs().sum()) == 0.0  # refined anchors are detached
    assert r2b.grad is not None  # the step-2 box loss reaches its deltas


def test_step_two_box_loss_is_minus_log_iou_on_the_refined_anchor() -> None:
    out, _ = _outputs()
    with torch.no_grad():
        out.reg[1][0, 0] = torch.tensor([0.0, 0.0, math.log(0.5), 0.0])  # half as wide: IoU 0.5
    losses = _criterion()(out, [{"boxes": FACE}])
    assert abs(float(losses["loss_box2"]) - math.log(2.0)) < 1e-5
