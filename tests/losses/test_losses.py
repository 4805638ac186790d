"""Quality focal loss and box losses against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from facedet.losses import box_loss, diou_loss, giou_loss, iou_loss, quality_focal_loss, smooth_l1_loss


def test_qfl_hand_values() -> None:
    logits = torch.tensor([0.0, 0.0, 0.0, math.log(3.0)])
    target = torch.tensor([0.0, 0.5, 1.0, 0.25])
    got = quality_focal_loss(logits, target, beta=2.0)
    bce = -(0.25 * math.log(0.75) + 0.75 * math.log(0.25))  # sigmoid(log 3) = 0.75
    want = torch.tensor([math.log(2) * 0.25, 0.0, math.log(2) * 0.25, bce * 0.25])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_qfl_negative_branch_is_focal_weighted_bce() -> None:
    x = torch.linspace(-6, 6, 13)
    got = quality_focal_loss(x, torch.zeros_like(x), beta=2.0)
    want = torch.nn.functional.softplus(x) * x.sigmoid() ** 2
    torch.testing.assert_close(got, want)
    with pytest.raises(ValueError, match="shape"):
        quality_focal_loss(x, torch.zeros(3))


def test_box_losses_hand_values() -> None:
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    tgt = torch.tensor([[1.0, 1.0, 3.0, 3.0]])
    # inter 1, union 7; centres 1 apart per axis -> rho^2 2; enclosing 3x3 -> c^2 18, area 9
    torch.testing.assert_close(iou_loss(pred, tgt), torch.tensor([1 - 1 / 7]))
    torch.testing.assert_close(giou_loss(pred, tgt), torch.tensor([1 - (1 / 7 - 2 / 9)]))
    torch.testing.assert_close(diou_loss(pred, tgt), torch.tensor([1 - (1 / 7 - 2 / 18)]))
    torch.testing.assert_close(diou_loss(tgt, tgt), torch.tensor([0.0]), atol=1e-6, rtol=0)
    assert box_loss("diou") is diou_loss
    with pytest.raises(ValueError, match="unknown box loss"):
        box_loss("ciou")


def test_smooth_l1_hand_values() -> None:
    beta = 1 / 9
    got = smooth_l1_loss(torch.tensor([0.05, 1.0, -1.0]), torch.zeros(3), beta)
    torch.testing.assert_close(got, torch.tensor([0.5 * 0.05**2 / beta, 1 - beta / 2, 1 - beta / 2]))
    torch.testing.assert_close(smooth_l1_loss(torch.tensor([-2.0]), torch.zeros(1), 0.0), torch.tensor([2.0]))
