"""GFL criterion (SCRFD's): normalisers, perfect predictions, keypoint targets and weights."""

from __future__ import annotations

import math

import torch

from facedet.criteria import GFLCriterion
from facedet.families.scrfd import SCRFD_ANCHOR_SIZES
from facedet.models.outputs import HeadOutputs
from facedet.ops.boxes import bbox2distance
from facedet.priors import AnchorGrid

FEATS = [(8, 8), (4, 4), (2, 2)]  # a 64x64 input
GRID = AnchorGrid((8, 16, 32), SCRFD_ANCHOR_SIZES)  # SCRFD's released anchors


def _outputs(fill_cls: float = 0.0, batch: int = 1, kps: bool = False) -> HeadOutputs:
    rows = [h * w * 2 for h, w in FEATS]
    cls = [torch.full((batch, n, 1), fill_cls, requires_grad=True) for n in rows]
    reg = [torch.zeros(batch, n, 4, requires_grad=True) for n in rows]
    kp = [torch.zeros(batch, n, 10, requires_grad=True) for n in rows] if kps else None
    return HeadOutputs(cls, reg, kp, FEATS)


FACE = torch.tensor([[10.0, 12.0, 30.0, 34.0]])
LMS = torch.tensor([[[15.0, 18.0], [25.0, 18.0], [20.0, 24.0], [16.0, 29.0], [24.0, 29.0]]])


def test_zero_predictions_hand_normalisers() -> None:
    crit = GFLCriterion(GRID)
    out = {k: float(v.detach()) for k, v in crit(_outputs(), [{"boxes": FACE}]).items()}
    anchors, centres, strides, counts = crit.priors(FEATS, torch.device("cpu"))
    assigned = crit.assigner(anchors, counts, FACE).gt_index
    pos = torch.nonzero(assigned >= 0).squeeze(1)
    num_pos = len(pos)
    assert out["num_pos"] == num_pos >= 1
    total = sum(h * w * 2 for h, w in FEATS)
    # zero distances give empty boxes: quality 0, so every anchor has target 0 and sigmoid 0.5
    assert math.isclose(out["loss_cls"], total * math.log(2) * 0.25 / num_pos, rel_tol=1e-5)
    # a point box inside the face: DIoU loss 1 + |c - face centre|^2 / face diagonal^2 (stride units);
    # each positive weighs sigmoid(0) = 0.5, normalised by the sum of weights, times loss weight 2
    c = centres[pos] / strides[pos, None]
    face = FACE / strides[pos, None]
    rho2 = ((c - (face[:, :2] + face[:, 2:]) / 2) ** 2).sum(1)
    diag2 = ((face[:, 2:] - face[:, :2]) ** 2).sum(1)
    want = 2.0 * float((0.5 * (1 + rho2 / diag2)).sum()) / (0.5 * num_pos)
    assert math.isclose(out["loss_bbox"], want, rel_tol=1e-5)
    assert math.isclose(out["loss"], out["loss_cls"] + out["loss_bbox"], rel_tol=1e-6)


def test_perfect_prediction_has_near_zero_loss() -> None:
    crit = GFLCriterion(GRID)
    _, centres, strides, _ = crit.priors(FEATS, torch.device("cpu"))
    dist = bbox2distance(centres / strides[:, None], FACE / strides[:, None])
    kps_t = (LMS.reshape(1, 5, 2) / strides[:, None, None] - (centres / strides[:, None])[:, None]).reshape(-1, 10)
    assigned = crit.assigner(*crit.priors(FEATS, torch.device("cpu"))[::3], FACE).gt_index
    pos = assigned >= 0
    logits = torch.where(pos, 30.0, -30.0)[None, :, None]
    split = [h * w * 2 for h, w in FEATS]
    outs = HeadOutputs(list(logits.split(split, 1)), list(dist[None].split(split, 1)),
                       list(kps_t[None].split(split, 1)), FEATS)
    losses = crit(outs, [{"boxes": FACE, "landmarks": LMS, "landmark_valid": torch.ones(1)}])
    assert float(losses["num_pos"].detach()) == float(pos.sum())
    vals = {k: float(v.detach()) for k, v in losses.items()}
    assert vals["loss_bbox"] < 1e-5 and vals["loss_kps"] < 1e-6 and vals["loss_cls"] < 1e-5


def test_invalid_landmarks_give_no_kps_loss_and_gradients_flow() -> None:
    crit = GFLCriterion(GRID)
    outs = _outputs(kps=True)
    tgt = {"boxes": FACE, "landmarks": LMS, "landmark_valid": torch.zeros(1)}
    losses = crit(outs, [tgt])
    assert float(losses["loss_kps"].detach()) == 0.0
    tgt["landmark_valid"] = torch.ones(1)
    losses = crit(outs, [tgt])
    assert float(losses["loss_kps"].detach()) > 0
    losses["loss"].backward()
    assert outs.cls[0].grad.abs().sum() > 0 and outs.reg[0].grad.abs().sum() > 0 and outs.kps[0].grad.abs().sum() > 0


def test_image_without_faces_and_batch() -> None:
    crit = GFLCriterion(GRID)
    out = crit(_outputs(fill_cls=-4.595, batch=2), [{"boxes": torch.zeros(0, 4)}, {"boxes": FACE}])
    single = crit(_outputs(fill_cls=-4.595, batch=1), [{"boxes": FACE}])
    assert float(out["num_pos"]) == float(single["num_pos"]) + 1  # a face-less image still counts 1
    assert math.isclose(float(out["loss_bbox"].detach()), float(single["loss_bbox"].detach()), rel_tol=1e-6)
    empty = crit(_outputs(batch=1), [{"boxes": torch.zeros(0, 4)}])
    assert float(empty["num_pos"]) == 1.0 and float(empty["loss_bbox"].detach()) == 0.0
    assert torch.isfinite(empty["loss"])


def test_ignore_regions_only_when_enabled() -> None:
    tgt = {"boxes": FACE, "ignore": torch.tensor([[40.0, 40.0, 64.0, 64.0]])}
    base = GFLCriterion(GRID)(_outputs(), [tgt])
    ign = GFLCriterion(GRID, ignore_iof_thr=0.5)(_outputs(), [tgt])
    # background anchors inside the ignore region no longer count
    assert float(ign["loss_cls"].detach()) < float(base["loss_cls"].detach())
    assert float(ign["loss_bbox"].detach()) == float(base["loss_bbox"].detach())
