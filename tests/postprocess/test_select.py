"""The shared selection: threshold, pre-NMS top-k, NMS, top-k (torch and numpy twins agree)."""

from __future__ import annotations

import numpy as np
import torch

from facedet.postprocess import candidates_np, candidates_torch, clip_np, suppress_np, suppress_torch, to_image_np

SCORES = np.array([0.2, 0.9, 0.5, 0.5, 0.05, 0.7], np.float32)


def test_candidates_threshold_order_and_top_k() -> None:
    assert candidates_np(SCORES, 0.5).tolist() == [1, 5]  # strictly above
    assert candidates_np(SCORES, 0.5, inclusive=True).tolist() == [1, 5, 2, 3]  # ties keep row order
    assert candidates_np(SCORES, 0.1, pre_nms_top_k=3).tolist() == [1, 5, 2]
    for kw in ({}, {"inclusive": True}, {"pre_nms_top_k": 2}):
        got = candidates_torch(torch.from_numpy(SCORES), 0.1, **kw)
        assert got.tolist() == candidates_np(SCORES, 0.1, **kw).tolist()


def test_suppress_and_offsets() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 1, 1]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    # IoU(0, 1) = 90 / 110 = 0.82 -> suppressed at 0.4; box 3 (area 1) overlaps box 0 by 1 / 100
    assert suppress_np(boxes, scores, 0.4).tolist() == [0, 2, 3]
    assert suppress_np(boxes, scores, 0.4, top_k=2).tolist() == [0, 2]
    # +1-pixel areas: box 3 is 2x2 = 4 and overlaps box 0 by 4 of 121 -> still kept; box 1 suppressed
    assert suppress_np(boxes, scores, 0.4, nms_offset=1.0).tolist() == [0, 2, 3]
    t = suppress_torch(torch.from_numpy(boxes), torch.from_numpy(scores), 0.4, top_k=2, nms_offset=1.0)
    assert t.tolist() == [0, 2]


def test_to_image_and_clip() -> None:
    boxes = np.array([[-4.0, 2.0, 300.0, 50.0]], np.float32)
    assert to_image_np(boxes, 2.0, (20, 100)).tolist() == [[0.0, 1.0, 100.0, 20.0]]
    assert to_image_np(boxes, 2.0, None).tolist() == [[-2.0, 1.0, 150.0, 25.0]]
    assert clip_np(boxes.copy(), None).tolist() == boxes.tolist()
