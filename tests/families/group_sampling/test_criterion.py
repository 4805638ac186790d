"""Criterion values by hand, a few-step training smoke test, grouped Fast R-CNN, pyramid test and @S evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from facedet.coders import DETECTRON_MAX_LOG_WH, VARIANCE_FREE, DeltaCoder
from facedet.criteria.sampled import SampledCriterion
from facedet.eval.wider_gt import GtImage, WiderGroundTruth
from facedet.families.group_sampling import (
    GroupedFastRCNN,
    GroupedFastRCNNCriterion,
    build,
    detect_pyramid,
    proposals,
    pyramid_scales,
    refine,
)
from facedet.families.group_sampling.scale_eval import evaluate_scales
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid
from facedet.samplers.group import GroupSampler, reference_scale
from facedet.samplers.ohem import OHEMSampler
from facedet.samplers.random import AllSampler, RandomSampler
from tests.decode_helpers import decode

TINY = {"widths": (8, 16, 32, 64), "neck_channels": 16, "head_channels": 16}
LN2 = math.log(2.0)


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def hand_outputs(pos_delta: tuple[float, float, float, float] = (0, 0, 0, 0)) -> HeadOutputs:
    """2x2 map, stride 16, anchors 16 and 32 per location -> 8 rows; zero logits."""
    reg = torch.zeros(1, 8, 4)
    reg[0, 0] = torch.tensor(pos_delta)  # row 0 = location (0, 0), anchor 16 = [0, 0, 16, 16]
    return HeadOutputs([torch.zeros(1, 8, 2)], [reg], None, [(2, 2)])


def crit(**kw) -> SampledCriterion:
    return SampledCriterion(AnchorGrid((16,), ((16.0, 32.0),), offsets=(0.5,)),
                            DeltaCoder(VARIANCE_FREE, DETECTRON_MAX_LOG_WH), **kw)


TARGET = [{"boxes": torch.tensor([[0.0, 0.0, 16.0, 16.0]])}]


def test_criterion_values_by_hand():
    # one positive (IoU 1), 7 negatives; zero logits -> CE ln 2 per row
    out = crit(sampler=AllSampler())(hand_outputs(), TARGET)
    assert math.isclose(float(out["loss_cls"]), LN2, rel_tol=1e-6) and float(out["loss_reg"]) == 0.0
    assert float(out["num_pos"]) == 1.0
    # deltas (0, 0.5, 0, ln 2): predicted [0, 0, 16, 32], IoU 0.5 -> (1 - 0.5)^2
    moved = hand_outputs((0.0, 0.5, 0.0, LN2))
    out = crit(sampler=AllSampler())(moved, TARGET)
    assert math.isclose(float(out["loss_reg"]), 0.25, rel_tol=1e-5)
    assert math.isclose(float(crit(sampler=AllSampler(), reg_loss="log_iou")(moved, TARGET)["loss_reg"]), LN2,
                        rel_tol=1e-5)
    # smooth-L1 (beta 1/9) on the deltas: |0.5| - 1/18 + |ln 2| - 1/18
    sl1 = float(crit(sampler=AllSampler(), reg_loss="smooth_l1")(moved, TARGET)["loss_reg"])
    assert math.isclose(sl1, 0.5 + LN2 - 1 / 9, rel_tol=1e-5)
    # eq. (2) with groups {16: 1 pos + 3 neg, 32: 4 neg}: cls ln2 + ln2, reg 0.25 / 1 + 0
    out = crit(sampler=GroupSampler(num=4, num_groups=2), group_scales=(16.0, 32.0))(moved, TARGET)
    assert math.isclose(float(out["loss_cls"]), 2 * LN2, rel_tol=1e-6)
    assert math.isclose(float(out["loss"]), 2 * LN2 + 0.25, rel_tol=1e-5)
    # Focal*: sum(w CE) / sum(w) = ln 2 per group when all logits are zero
    out = crit(sampler=GroupSampler(num=4, num_groups=2), group_scales=(16.0, 32.0), cls_loss="focal")(moved, TARGET)
    assert math.isclose(float(out["loss_cls"]), 2 * LN2, rel_tol=1e-5)
    # hard-example samplers get the per-anchor CE (all equal here): OHEM top-2 = lowest indices
    out = crit(sampler=OHEMSampler(num=2))(moved, TARGET)
    assert math.isclose(float(out["loss_cls"]), LN2, rel_tol=1e-6) and float(out["num_pos"]) == 1.0


def test_criterion_errors_and_empty_images():
    c = crit(sampler=RandomSampler(4))
    out = c(hand_outputs(), [{"boxes": torch.zeros(0, 4)}])
    assert float(out["loss_reg"]) == 0.0 and math.isclose(float(out["loss_cls"]), LN2, rel_tol=1e-6)
    with pytest.raises(ValueError):
        c(hand_outputs(), TARGET * 2)
    with pytest.raises(ValueError):
        crit(cls_loss="hinge")


def test_reference_scale_eq4():
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 20, 30], [0, 0, 50, 50], [0, 0, 100, 100], [0, 0, 500, 400.0]])
    assert reference_scale(boxes).tolist() == [0, 1, 2, 3, 3]


def synthetic_batch(n: int = 2, size: int = 64, seed: int = 0):
    """Dark images with bright squares (the 'faces') of 12-40 px."""
    g = torch.Generator().manual_seed(seed)
    images, targets = torch.zeros(n, 3, size, size) - 1.0, []
    for i in range(n):
        boxes = []
        for _ in range(2):
            s = int(torch.randint(12, 40, (1,), generator=g))
            x, y = (int(v) for v in torch.randint(0, size - s, (2,), generator=g))
            images[i, :, y:y + s, x:x + s] = 1.5
            boxes.append([x, y, x + s, y + s])
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32)})
    return images, targets


def test_training_smoke_loss_decreases():
    torch.manual_seed(0)
    model = build("fpn_finest", 18, level=2, **TINY)
    criterion = SampledCriterion.from_model(model, sampler=GroupSampler(num=64, mode="wrs"))
    images, targets = synthetic_batch()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        out = criterion(model(images), targets)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(float(out["loss"].detach()))
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])


def test_grouped_fast_rcnn_train_and_refine():
    torch.manual_seed(0)
    model = build("fpn_finest", 18, level=2, **TINY).eval()
    images, targets = synthetic_batch()
    outputs, feats = model.forward_with_features(images)
    props = proposals(outputs, model, pre_nms_topk=500, post_nms_topk=50)
    assert len(props) == 2 and all(len(p.boxes) <= 50 for p in props)
    head = GroupedFastRCNN(16, feature_stride=4, fc_channels=32)
    crit2 = GroupedFastRCNNCriterion(sampler=GroupSampler(num=8))
    rois, labels, gts, groups = crit2.sample([p.boxes for p in props], targets)
    assert rois.shape[1] == 5 and (labels == 1).sum() >= 4  # the gts themselves are positives
    assert torch.equal(groups, reference_scale(rois[:, 1:]))
    assert torch.bincount(groups, minlength=4).max() <= 2 * 8  # <= N per group per image
    loss = crit2(head, feats[0], [p.boxes for p in props], targets)
    loss["loss"].backward()
    assert head.fc1.weight.grad is not None and torch.isfinite(loss["loss"])
    with torch.no_grad():
        head.reg.weight.zero_()
        head.reg.bias.zero_()
        head.cls.weight.zero_()
        head.cls.bias.zero_()
    ref = refine(head, feats[0], props)
    assert torch.allclose(ref[0].boxes, props[0].boxes, atol=1e-4)  # zero deltas keep the proposal
    assert torch.allclose(ref[0].scores, (props[0].scores + 0.5) / 2)  # mean of the two stages


def test_pyramid_scales_and_detect():
    assert pyramid_scales(1000, 800) == [0.25 * n for n in range(1, 9)]
    assert pyramid_scales(1500, 2000) == [0.25 * n for n in range(1, 7)]  # 1.75 * 2000 > 3000
    assert pyramid_scales(9000, 100) == [0.25]
    torch.manual_seed(0)
    model = build("fpn_finest", 18, level=2, **TINY).eval()
    img = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    res = detect_pyramid(model, img, scales=(0.5, 1.0), score_thr=0.0, flip=True, max_det=30)
    d = res.detections
    assert len(d) == 30 == len(res.groups)
    assert (d.boxes[:, 0::2] >= 0).all() and (d.boxes[:, 0::2] <= 64).all() and (d.boxes[:, 1::2] <= 48).all()
    assert set(res.groups.tolist()) <= {0, 1, 2, 3}


def test_scale_eval_at_s():
    gt = WiderGroundTruth([GtImage("0--Parade", "img", np.array([[10, 10, 20, 20], [100, 100, 60, 60.0]]),
                                   np.zeros(2, bool), {k: np.array([1, 2]) for k in ("easy", "medium", "hard")})])
    key = ("0--Parade", "img")
    merged = {key: np.array([[10, 10, 20, 20, 0.9], [100, 100, 60, 60, 0.8]])}
    group16 = {key: np.array([[10, 10, 20, 20, 0.9], [400, 400, 10, 10, 0.1]])}  # the small face, then a miss
    group64 = {key: np.array([[100, 100, 60, 60, 0.7], [300, 300, 10, 10, 0.9], [400, 400, 10, 10, 0.1]])}
    res = evaluate_scales(merged, [group16, {}, group64, {}], gt)
    assert res["all"] == pytest.approx(1.0) and res["easy"] == pytest.approx(1.0)
    assert res["@16"] == pytest.approx(0.5) and res["@32"] == 0.0
    assert res["@64"] == pytest.approx(0.25)  # recall 0.5 reached at precision 0.5


def test_two_stage_detector_trains_both_stages_and_decodes_with_the_ensemble():
    """``second_stage=True``: the recipe's criterion adds the grouped Fast R-CNN loss on the proposals,
    gradients reach both stages, and the family decoder scores with the two-stage mean."""
    from facedet.families.group_sampling.fast_rcnn import TwoStageCriterion
    from facedet.families.group_sampling.recipe import build_criterion

    torch.manual_seed(0)
    model = build("fpn_finest", 18, level=2, second_stage=True, rcnn_fc=32, **TINY)
    crit = build_criterion(model, "gs", num=16)
    assert isinstance(crit, TwoStageCriterion)
    assert not any(n.startswith("model") for n, _ in crit.named_parameters())  # the trainer owns the model
    images, targets = synthetic_batch()
    out = model(images)
    assert out.features is not None and out.features[0].shape[-2:] == (16, 16)
    losses = crit(out, targets)
    assert {"loss_cls", "loss_reg", "loss_rcnn_cls", "loss_rcnn_reg"} <= losses.keys()
    losses["loss"].backward()
    assert model.rcnn.fc1.weight.grad.abs().sum() > 0 and model.head.cls.weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        out = model(images)
        model.rcnn.cls.weight.zero_()
        model.rcnn.cls.bias.zero_()
        (boxes, scores), _ = decode(out, model, score_thr=0.0, nms_thr=1.0)
        one_stage = build("fpn_finest", 18, level=2, **TINY).eval()
        one_stage.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("rcnn.")})
        props = proposals(one_stage(images), one_stage)[0]
    # second-stage probability 0.5 everywhere -> every score is (first + 0.5) / 2
    assert scores.max() <= (float(props.scores.max()) + 0.5) / 2 + 1e-5
    np.testing.assert_allclose(np.sort(scores)[::-1][:5], ((props.scores[:5] + 0.5) / 2).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="second_stage"):
        TwoStageCriterion(one_stage, crit.first)


def test_sampling_stream_state_round_trip():
    """The trainer checkpoints the samplers' random stream: a restored criterion draws what the original draws."""
    model = build("fpn_finest", 18, level=2, **TINY)
    images, targets = synthetic_batch()
    with torch.no_grad():
        out = model(images)
    crit = SampledCriterion.from_model(model, sampler=GroupSampler(num=8), seed=3)
    assert crit.rng_state() is None
    crit(out, targets)
    state = crit.rng_state()
    expect = crit(out, targets)["loss"]
    other = SampledCriterion.from_model(model, sampler=GroupSampler(num=8), seed=99)
    other.set_rng_state(state)
    assert torch.equal(other(out, targets)["loss"], expect)
    fresh = SampledCriterion.from_model(model, sampler=GroupSampler(num=8), seed=99)
    assert not torch.equal(fresh(out, targets)["loss"], expect)
