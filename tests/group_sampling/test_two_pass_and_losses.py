"""Two-pass matcher on hand-made anchors / boxes, and the loss values by hand."""

from __future__ import annotations

import math

import torch

from facedet.assigners.two_pass import TwoPassAssigner, ignore_mask
from facedet.losses.focal import focal_star_loss, focal_weights, softmax_focal_loss
from facedet.losses.ls_iou import log_iou_loss, ls_iou_loss

T = torch.tensor


def test_two_pass_hand_case():
    gt = T([[0, 0, 10, 10], [100, 100, 110, 110], [200, 200, 210, 210], [300, 300, 310, 310],
            [400, 400, 410, 410], [400, 400, 410, 414]], dtype=torch.float32)
    anchors = T([
        [0, 0, 10, 10],      # A0 IoU 1 with gt0 -> 1
        [0, 0, 10, 20],      # A1 IoU 0.5 -> ignore (gt0 already matched)
        [100, 100, 110, 115],  # A2 IoU 0.667 -> 1
        [200, 200, 210, 222],  # A3 IoU 0.4545 -> ignore, then pass 2 gives it to gt2 (best candidate)
        [200, 200, 210, 224],  # A4 IoU 0.4167 -> ignore
        [300, 300, 310, 330],  # A5 IoU 0.333 < 0.4 -> 0; gt3 stays unmatched
        [500, 500, 510, 510],  # A6 -> 0
        [400, 400, 410, 420],  # A7 IoU 0.5 gt4 / 0.7 gt5 -> 1 for gt5
        [400, 400, 410, 424],  # A8 IoU 0.417 gt4 / 0.583 gt5: best gt is gt5 -> not taken for gt4
    ], dtype=torch.float32)
    res = TwoPassAssigner(0.6, 0.4)(anchors, gt)
    assert res.labels.tolist() == [1, -1, 1, 1, -1, 0, 0, 1, -1]
    assert res.gt_index[res.pos].tolist() == [0, 1, 2, 5]
    assert math.isclose(float(res.quality[3]), 100 / 220, rel_tol=1e-6)
    one_pass = TwoPassAssigner(0.6, 0.4, second_pass=False)(anchors, gt)
    assert one_pass.labels.tolist() == [1, -1, 1, -1, -1, 0, 0, 1, -1]


def test_two_pass_tie_takes_lowest_index_and_fast_rcnn_thresholds():
    gt = T([[600, 600, 610, 610]], dtype=torch.float32)
    anchors = T([[600, 600, 610, 622], [600, 588, 610, 610], [0, 0, 5, 5]], dtype=torch.float32)  # both 100/220
    assert TwoPassAssigner(0.6, 0.4)(anchors, gt).labels.tolist() == [1, -1, 0]
    # Fast R-CNN thresholds: 0.4545 < 0.5 -> background, and no second-pass candidate
    assert TwoPassAssigner(0.6, 0.5)(anchors, gt).labels.tolist() == [0, 0, 0]


def test_two_pass_no_gt_and_ignore_regions():
    anchors = T([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 4, 4]], dtype=torch.float32)
    ignore = T([[0, 0, 12, 12]])
    res = TwoPassAssigner()(anchors, torch.zeros(0, 4), ignore)
    assert res.labels.tolist() == [-1, 0, -1] and res.gt_index.tolist() == [-1, -1, -1]
    assert ignore_mask(anchors, T([[5, 0, 10, 10]]), 0.5).tolist() == [True, False, False]  # IoF exactly 0.5
    res = TwoPassAssigner()(anchors, T([[0, 0, 10, 10]]), ignore)
    assert res.labels.tolist() == [1, 0, -1]  # a positive stays positive inside an ignore box


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
