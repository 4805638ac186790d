"""Hard-negative mining (3:1), MultiBox loss and the EXTD criterion on hand-made tensors."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from facedet.criteria.multibox import MultiBoxCriterion
from facedet.families.extd import build_extd
from facedet.losses.multibox import background_loss, multibox_loss
from facedet.samplers.hard_negative import hard_negative_mask


def test_mining_keeps_three_hardest_negatives_per_positive():
    loss = torch.tensor([[0.9, 5.0, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]])
    pos = torch.zeros(2, 8, dtype=torch.bool)
    pos[0, 1] = True  # the positive has the largest loss: must not count as a negative
    neg = hard_negative_mask(loss, pos, 3)
    assert torch.nonzero(neg[0]).flatten().tolist() == [0, 3, 5]  # losses 0.9, 0.7, 0.8
    assert not neg[1].any()  # no positive -> no negative (reference)
    assert hard_negative_mask(loss, pos, 3, min_neg=2)[1].nonzero().flatten().tolist() == [6, 7]
    valid = torch.ones(2, 8, dtype=torch.bool)
    valid[0, 0] = False  # e.g. inside an ignore region
    assert torch.nonzero(hard_negative_mask(loss, pos, 3, valid)[0]).flatten().tolist() == [3, 5, 7]


def test_mining_cap_is_num_anchors_minus_one():
    pos = torch.tensor([[True, True, False, False]])
    neg = hard_negative_mask(torch.tensor([[0.0, 0.0, 1.0, 2.0]]), pos, 3)
    assert neg.tolist() == [[False, False, True, True]]


def test_multibox_loss_hand_computed():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0], [1.0, 3.0], [0.0, 1.0]]])
    labels = torch.tensor([[0, 0, 1, 0]])
    reg = torch.tensor([[[0.0] * 4, [0.0] * 4, [0.5, -2.0, 0.0, 0.0], [0.0] * 4]])
    target = torch.zeros(1, 4, 4)
    pos = labels > 0
    neg = torch.tensor([[False, True, False, True]])
    lc, lb = multibox_loss(logits, reg, labels, target, pos, neg, 1.0)
    ce = -math.log(math.e**3 / (math.e + math.e**3)) + math.log(2) + -math.log(1 / (1 + math.e))
    assert abs(lc.item() - ce) < 1e-5
    assert abs(lb.item() - (0.125 + 1.5)) < 1e-6  # smooth-L1: 0.5*0.5^2 + (2 - 0.5)
    assert torch.allclose(background_loss(logits)[0, 3], torch.tensor(math.log(1 + math.e)))


def test_criterion_end_to_end_and_gradients():
    torch.manual_seed(0)
    model = build_extd("extd_fpn_32")
    crit = MultiBoxCriterion.from_model(model)
    x = torch.randn(2, 3, 128, 128)
    targets = [
        {"boxes": torch.tensor([[10.0, 12.0, 40.0, 44.0], [60.0, 60.0, 120.0, 125.0]])},
        {"boxes": torch.zeros(0, 4)},
    ]
    out = model(x)
    losses = crit(out, targets)
    assert set(losses) == {"loss", "loss_cls", "loss_box"}
    losses["loss"].backward()
    assert model.group[0].expand.weight.grad.abs().sum() > 0

    # the criterion's pieces agree with a direct computation
    anchors = crit.anchors.boxes(out.feat_sizes, x.device)
    labels, reg_t, _ = crit.targets(anchors, targets)
    cls = torch.cat(out.cls, 1).detach()
    pos = labels > 0
    n = int(pos.sum())
    assert n >= 2 and not pos[1].any()
    neg = hard_negative_mask(background_loss(cls), pos, 3)
    assert int(neg.sum()) == 3 * n
    ce = F.cross_entropy(cls[pos | neg], labels[pos | neg], reduction="sum") / n
    assert torch.allclose(losses["loss_cls"].detach(), ce, atol=1e-5)


def test_criterion_ignore_regions():
    grid = build_extd("extd_fpn_32").anchors
    crit = MultiBoxCriterion(grid, ignore_iof_thr=0.5)
    anchors = crit.anchors.boxes([(4, 4)] + [(1, 1)] * 5, "cpu")
    _, _, valid = crit.targets(anchors, [{"boxes": torch.tensor([[0.0, 0.0, 16, 16]]),
                                          "ignore": torch.tensor([[0.0, 0.0, 8, 8]])}])
    # the first stride-4 anchor (cx=cy=2, side 16: -6..10) has IoF 64/256 = 0.25 with the region
    assert bool(valid[0, 0]) and valid.shape == (1, 16 + 5)
    crit2 = MultiBoxCriterion(grid, ignore_iof_thr=0.2)
    _, _, valid2 = crit2.targets(anchors, [{"boxes": torch.tensor([[0.0, 0.0, 16, 16]]),
                                            "ignore": torch.tensor([[0.0, 0.0, 8, 8]])}])
    assert not bool(valid2[0, 0])


def test_recipe_scaling_and_overrides():
    from facedet.config import Config
    from facedet.families.extd import PAPER_RECIPE, build_criterion

    r = PAPER_RECIPE.scaled(iterations=2400, batch_size=4)
    assert r.lr_steps == (1200, 1800) and math.isclose(r.lr, 2.5e-4) and r.iterations == 2400
    cfg = r.apply(Config(), num_images=1000)  # 250 iterations per epoch
    assert cfg.train.epochs == 10 and cfg.train.milestones == (5, 7) and cfg.train.max_steps == 2400
    assert cfg.train.milestone_iters == (1200, 1800)  # the exact iterations win over the rounded epochs
    assert cfg.train.batch_size == 4 and cfg.train.warmup_iters == 0
    crit = build_criterion(build_extd("extd_fpn_32"), r, ignore_iof_thr=0.5)
    assert crit.assigner.pos_iou == 0.35 and crit.neg_pos_ratio == 3 and crit.ignore_iof_thr == 0.5
