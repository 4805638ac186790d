"""ATSS with the face-specific normalised centre test: hand-made cases and a loop reference."""

from __future__ import annotations

import torch

from facedet.assigners import ATSSAssigner
from facedet.ops.boxes import box_iou
from facedet.priors import square_anchors


def test_hand_example_one_positive() -> None:
    # stride 8, 2x2 grid, one 16-px anchor per location: centres (0,0) (8,0) (0,8) (8,8)
    anchors = square_anchors((2, 2), 8, [16.0])
    gt = torch.tensor([[1.0, 1.0, 17.0, 17.0]])
    # IoUs 49/463, 105/407, 105/407, 225/287 -> mean + std = 0.6486: only the (8,8) anchor passes
    res = ATSSAssigner(topk=4)(anchors, [4], gt)
    assigned, iou = res.gt_index, res.quality
    assert assigned.tolist() == [-1, -1, -1, 0]
    torch.testing.assert_close(iou[3], torch.tensor(225 / 287))


def test_centre_on_gt_border_is_rejected() -> None:
    anchors = square_anchors((3, 3), 8, [16.0])
    gt = torch.tensor([[8.0, 8.0, 12.0, 12.0]])  # every candidate has IoU 1/16: all pass the IoU test
    assigned = ATSSAssigner(topk=4)(anchors, [9], gt).gt_index
    assert (assigned == -1).all()  # (8,8) sits on the border (margin 0), the others outside
    inside = torch.tensor([[7.0, 7.0, 11.0, 11.0]])  # now (8,8) is 1 px inside: 1/sqrt(16) = 0.25 > 0.001
    assigned = ATSSAssigner(topk=4)(anchors, [9], inside).gt_index
    assert assigned.tolist() == [-1, -1, -1, -1, 0, -1, -1, -1, -1]


def test_face_specific_margin_vs_standard_atss() -> None:
    anchors = square_anchors((3, 3), 8, [16.0])
    gt = torch.tensor([[7.995, 7.995, 11.995, 11.995]])  # a 4-px face; the (8,8) centre is 0.005 px inside
    # only (8,8) contains the whole face, so only its IoU (1/16) clears mean + std of the 4 candidates
    scrfd = ATSSAssigner(topk=4, centre_eps=0.001)(anchors, [9], gt).gt_index  # 0.005 / 4 > 0.001: kept
    standard = ATSSAssigner(topk=4, centre_eps=0.01, normalised=False)(anchors, [9], gt).gt_index  # 0.005 < 0.01
    assert scrfd.tolist() == [-1, -1, -1, -1, 0, -1, -1, -1, -1]
    assert (standard == -1).all()


def test_empty_gt_and_overlap_resolution() -> None:
    anchors = square_anchors((4, 4), 8, [16.0, 32.0])
    res = ATSSAssigner()(anchors, [32], torch.zeros(0, 4))
    assigned, iou = res.gt_index, res.quality
    assert (assigned == -1).all() and (iou == 0).all()
    gts = torch.tensor([[2.0, 2.0, 18.0, 18.0], [1.0, 1.0, 19.0, 19.0]])  # nearly the same face twice
    assigned = ATSSAssigner(topk=9)(anchors, [32], gts).gt_index
    ious = box_iou(anchors, gts)
    pos = assigned >= 0
    assert pos.any()
    assert torch.equal(assigned[pos], ious[pos].argmax(1))  # shared anchors go to the higher IoU


def _reference(anchors, counts, gts, topk, eps):
    """Straightforward per-gt loops (the mmdet algorithm as written in the spec)."""
    ious = box_iou(anchors, gts)
    ac = (anchors[:, :2] + anchors[:, 2:]) / 2
    best = torch.full((len(anchors),), -1.0)
    out = torch.full((len(anchors),), -1, dtype=torch.long)
    for g in range(len(gts)):
        gc = (gts[g, :2] + gts[g, 2:]) / 2
        cands, start = [], 0
        for n in counts:
            d = ((ac[start : start + n] - gc) ** 2).sum(1).sqrt()
            cands += (d.argsort(stable=True)[: min(topk, n)] + start).tolist()
            start += n
        vals = ious[cands, g]
        thr = vals.mean() + vals.std()
        side = (gts[g, 2:] - gts[g, :2]).prod().clamp(min=1e-4).sqrt()
        for a, v in zip(cands, vals.tolist(), strict=True):
            x, y = ac[a].tolist()
            m = min(x - gts[g, 0], y - gts[g, 1], gts[g, 2] - x, gts[g, 3] - y) / side
            if v >= thr and m > eps and v > best[a]:
                best[a], out[a] = v, g
    return out


def test_matches_loop_reference_on_random_faces() -> None:
    g = torch.Generator().manual_seed(0)
    feats, strides, sizes = [(16, 16), (8, 8), (4, 4)], [8, 16, 32], [[16.0, 32.0], [64.0, 128.0], [256.0, 512.0]]
    parts = [square_anchors(f, s, z) for f, s, z in zip(feats, strides, sizes, strict=True)]
    anchors, counts = torch.cat(parts), [len(p) for p in parts]
    for _ in range(5):
        xy = torch.rand(12, 2, generator=g) * 110
        wh = 4 + torch.rand(12, 2, generator=g) * 60
        gts = torch.cat([xy, xy + wh], 1)
        got = ATSSAssigner(topk=9)(anchors, counts, gts).gt_index
        want = _reference(anchors, counts, gts, 9, 0.001)
        assert torch.equal(got, want)
        assert (got >= 0).sum() > 12  # faces of 4-64 px get positives
