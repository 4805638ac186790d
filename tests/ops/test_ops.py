"""Box IoU and NMS against hand-computed values."""

import numpy as np
import torch

from facedet.ops.boxes import aligned_diou, aligned_giou, aligned_iou, box_iou, box_iou_np
from facedet.ops.nms import batched_nms_np, nms_np, nms_torch


def test_iou_hand_computed():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 5, 15, 15], [20, 20, 30, 30], [0, 0, 10, 10]], float)
    np.testing.assert_allclose(box_iou_np(a, b), [[25 / 175, 0.0, 1.0]])
    # +1 convention: 6*6 / (121 + 121 - 36)
    np.testing.assert_allclose(box_iou_np(a, b[:1], offset=1)[0, 0], 36 / 206)
    t = box_iou(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
    np.testing.assert_allclose(t.numpy(), [[25 / 175, 0.0, 1.0]], rtol=1e-6)


def test_aligned_variants():
    a = torch.tensor([[0.0, 0, 10, 10]])
    b = torch.tensor([[5.0, 5, 15, 15]])
    iou = 25 / 175
    assert torch.isclose(aligned_iou(a, b), torch.tensor([iou])).all()
    # enclosing box 15x15 = 225, union 175
    assert torch.isclose(aligned_giou(a, b), torch.tensor([iou - 50 / 225])).all()
    # centres (5,5),(10,10): rho^2 = 50, diagonal^2 = 450
    assert torch.isclose(aligned_diou(a, b), torch.tensor([iou - 50 / 450]), atol=1e-6).all()


def test_nms_keeps_best_and_disjoint():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 9.5]], np.float32)
    scores = np.array([0.9, 0.95, 0.5, 0.3], np.float32)
    keep = nms_np(boxes, scores, 0.4)
    assert keep.tolist() == [1, 2]
    kt = nms_torch(torch.from_numpy(boxes), torch.from_numpy(scores), 0.4)
    assert kt.tolist() == [1, 2]


def test_batched_nms_separates_groups():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    assert sorted(batched_nms_np(boxes, scores, np.array([0, 1]), 0.5).tolist()) == [0, 1]
    assert nms_np(boxes, scores, 0.5).tolist() == [0]


def test_priors_layout():
    from facedet.priors import grid_points, grid_points_np, square_anchors

    pts = grid_points_np((2, 3), 8, num_anchors=2)
    # location-major, anchor-minor; centres at the cell's top-left corner (SCRFD)
    assert pts.shape == (12, 2)
    assert pts[:4].tolist() == [[0, 0], [0, 0], [8, 0], [8, 0]]
    assert pts[6].tolist() == [0, 8]
    np.testing.assert_array_equal(grid_points((2, 3), 8, 2).numpy(), pts)
    anc = square_anchors((1, 2), 16, [16, 32], offset=0.5)
    assert anc.tolist() == [[0, 0, 16, 16], [-8, -8, 24, 24], [16, 0, 32, 16], [8, -8, 40, 24]]
