"""Group Sampling's IoU losses (least squares, -ln IoU), softmax focal / Focal* and sigmoid focal values by hand."""

from __future__ import annotations

import math

import pytest
import torch

from facedet.losses.focal import focal_star_loss, focal_weights, sigmoid_focal_loss, softmax_focal_loss
from facedet.losses.ls_iou import log_iou_loss, ls_iou_loss

T = torch.tensor


def test_ls_iou_and_log_iou_values():
    pred = T([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    target = T([[0.0, 0.0, 10.0, 20.0], [0.0, 0.0, 10.0, 10.0]])
    assert torch.allclose(ls_iou_loss(pred, target), T([0.25, 0.0]), atol=1e-6)
    assert torch.allclose(log_iou_loss(pred, target), T([math.log(2), 0.0]), atol=1e-5)
    # eq. (6): zero gradient at IoU = 1 for (1-IoU)^2, not for -ln IoU (eq. 7)
    p = T([[0.0, 0.0, 10.0, 10.0]], requires_grad=True)
    ls_iou_loss(p, T([[0.0, 0.0, 10.0, 10.0]])).sum().backward()
    assert torch.count_nonzero(p.grad) == 0
    # near IoU = 1 the least-squares gradient vanishes like 2(1 - IoU), -ln IoU's stays ~ dIoU/dx
    a = T([[0.01, 0.0, 10.0, 10.0]], dtype=torch.float64, requires_grad=True)
    b = T([[0.01, 0.0, 10.0, 10.0]], dtype=torch.float64, requires_grad=True)
    g = T([[0.0, 0.0, 10.0, 10.0]], dtype=torch.float64)
    ls_iou_loss(a, g).sum().backward()
    log_iou_loss(b, g).sum().backward()
    iou = 0.999
    assert torch.allclose(a.grad, 2 * (1 - iou) * iou * b.grad)
    assert b.grad.abs().max() > 0.05 and a.grad.abs().max() < 1e-3
    # at IoU 0.5 the least-squares gradient is 2 (1 - IoU) = 1 times the IoU gradient; -ln IoU's is 1/IoU = 2
    p3 = T([[0.0, 0.0, 10.0, 10.0]], requires_grad=True)
    ls_iou_loss(p3, target[:1]).sum().backward()
    p4 = T([[0.0, 0.0, 10.0, 10.0]], requires_grad=True)
    log_iou_loss(p4, target[:1]).sum().backward()
    assert torch.allclose(p4.grad, 2 * p3.grad)


def test_focal_values():
    logits = torch.zeros(2, 2)
    labels = T([1, 0])
    loss, w = softmax_focal_loss(logits, labels)
    assert torch.allclose(w, T([0.25 * 0.25, 0.75 * 0.25]))
    assert torch.allclose(loss, w * math.log(2))
    assert math.isclose(float(focal_star_loss(logits, labels)), math.log(2), rel_tol=1e-6)
    # confident correct prediction: p_t = 0.9 -> weight alpha (0.1)^2
    lg = T([[0.0, math.log(9.0)]])
    assert torch.allclose(focal_weights(lg, T([1])), T([0.25 * 0.01]), atol=1e-7)
    assert float(focal_star_loss(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))) == 0.0


def test_sigmoid_focal_hand_values():
    z = torch.tensor([0.0, 2.0, -1.0])
    y = torch.tensor([1.0, 0.0, 1.0])
    p = torch.sigmoid(z)
    # face: -0.25 (1 - p)^2 ln p ; background: -0.75 p^2 ln(1 - p)
    want = torch.stack([-0.25 * (1 - p[0]) ** 2 * torch.log(p[0]),
                        -0.75 * p[1] ** 2 * torch.log(1 - p[1]),
                        -0.25 * (1 - p[2]) ** 2 * torch.log(p[2])])
    assert torch.allclose(sigmoid_focal_loss(z, y), want, atol=1e-6)
    assert abs(float(sigmoid_focal_loss(torch.tensor([0.0]), torch.tensor([1.0]))) - 0.25 * 0.25 * math.log(2)) < 1e-6
    # gamma 0 without alpha is the plain BCE; huge logits stay finite
    assert torch.allclose(sigmoid_focal_loss(z, y, alpha=-1, gamma=0),
                          torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none"))
    big = sigmoid_focal_loss(torch.tensor([80.0, -80.0]), torch.tensor([0.0, 1.0]))
    assert torch.isfinite(big).all() and float(big[0]) == pytest.approx(0.75 * 80, rel=1e-4)
