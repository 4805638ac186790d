"""Distillation: face logits of both head kinds, renormalisation, dense terms, pseudo targets, layouts."""

from __future__ import annotations

import pytest
import torch

from facedet.config import DistillConfig
from facedet.criteria.distill import Distiller, Renormalize, dense_boxes, face_logit, same_layout
from facedet.criteria.gfl import GFLCriterion, GFLLossConfig
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid
from tests.engine.tiny import NeckDet, TinyDet


def test_face_logit_of_softmax_head_is_the_log_odds() -> None:
    logits = torch.tensor([[[0.3, 1.7], [2.0, -1.0]]])
    prob = logits.softmax(-1)[..., 1]
    assert torch.allclose(face_logit(logits).sigmoid(), prob)
    assert torch.equal(face_logit(torch.tensor([[[0.5]]])), torch.tensor([[0.5]]))
    with pytest.raises(ValueError, match="3-class"):
        face_logit(torch.zeros(1, 2, 3))


class _Stats:
    def __init__(self, mean, std, rgb) -> None:
        self.input_mean, self.input_std, self.input_rgb = mean, std, rgb


def test_renormalize_maps_student_input_to_teacher_input() -> None:
    pixels = torch.tensor([10.0, 120.0, 250.0]).reshape(1, 3, 1, 1)  # RGB
    student = _Stats(127.5, 128.0, True)
    teacher = _Stats((104.0, 117.0, 123.0), 1.0, False)  # BGR, S3FD-style
    x = (pixels - 127.5) / 128.0
    got = Renormalize(student, teacher)(x)  # type: ignore[arg-type]
    want = torch.tensor([250 - 104.0, 120 - 117.0, 10 - 123.0]).reshape(1, 3, 1, 1)
    assert torch.allclose(got, want, atol=1e-4)
    assert Renormalize(student, student).identity  # type: ignore[arg-type]


def test_dense_boxes_decode_distances_at_anchor_centres() -> None:
    model = TinyDet()
    sizes = [(2, 2), (1, 1), (1, 1)]
    rows = [8, 2, 2]
    reg = [torch.ones(1, n, 4) for n in rows]  # 1 stride on every side
    out = HeadOutputs([torch.zeros(1, n, 1) for n in rows], reg, None, sizes)
    boxes = dense_boxes(model, out)  # type: ignore[arg-type]
    assert boxes.shape == (1, 12, 4)
    # first level, location (0, 0): centre (0, 0), stride 8; location (0, 1) is rows 2-3: centre (8, 0)
    assert torch.allclose(boxes[0, 0], torch.tensor([-8.0, -8.0, 8.0, 8.0]))
    assert torch.allclose(boxes[0, 2], torch.tensor([0.0, -8.0, 16.0, 8.0]))
    assert torch.allclose(boxes[0, 8], torch.tensor([-16.0, -16.0, 16.0, 16.0]))  # stride 16


def _pair(seed_s: int = 0, seed_t: int = 1) -> tuple[TinyDet, TinyDet]:
    torch.manual_seed(seed_s)
    student = TinyDet()
    torch.manual_seed(seed_t)
    teacher = TinyDet()
    with torch.no_grad():  # a confident teacher: some priors above box_thr
        for conv in teacher.cls:
            conv.bias.fill_(0.0)
    return student, teacher


def test_dense_terms_vanish_on_the_teacher_itself_and_only_the_student_learns() -> None:
    student, teacher = _pair()
    kd = Distiller(teacher, student, DistillConfig(teacher="x"))
    images = torch.randn(2, 3, 64, 64)
    t_out = kd.teacher_outputs(images)
    same = kd.dense_terms(t_out, t_out)
    assert float(same["loss_kd_cls"]) == 0.0 and float(same["loss_kd_box"]) == pytest.approx(0.0, abs=1e-6)
    terms = kd.dense_terms(student(images), t_out)
    assert float(terms["loss_kd_cls"].detach()) > 0 and float(terms["loss_kd_box"].detach()) > 0
    (terms["loss_kd_cls"] + terms["loss_kd_box"]).backward()
    assert student.cls[0].weight.grad is not None and student.reg[0].weight.grad is not None
    assert all(p.grad is None for p in teacher.parameters())


def test_losses_add_the_terms_to_the_criterion_total() -> None:
    student, teacher = _pair()
    kd = Distiller(teacher, student, DistillConfig(teacher="x"))
    crit = GFLCriterion.from_config(GFLLossConfig(), student)
    images = torch.randn(2, 3, 64, 64)
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 40.0]])}, {"boxes": torch.zeros(0, 4)}]
    out = student(images)
    losses = kd.losses(out, kd.teacher_outputs(images), targets, crit)
    plain = crit(out, targets)
    assert torch.allclose(losses["loss"], plain["loss"] + losses["loss_kd_cls"] + losses["loss_kd_box"])


def test_pseudo_targets_add_only_confident_uncovered_teacher_faces() -> None:
    student, teacher = _pair()
    kd = Distiller(teacher, student, DistillConfig(teacher="x", pseudo_thr=0.5))
    sizes = [(4, 4), (2, 2), (1, 1)]  # a 32 x 32 canvas
    rows = [32, 8, 2]
    cls = [torch.full((1, n, 1), -10.0) for n in rows]
    cls[0][0, 0, 0] = 5.0  # location (0, 0): box (-8, -8, 8, 8), clipped to (0, 0, 8, 8) = the gt below
    cls[0][0, 20, 0] = 5.0  # location (2, 2), centre (16, 16): box (8, 8, 24, 24)
    cls[0][0, 6, 0] = 0.0  # probability 0.5 (kept: >= thr): location (0, 3), (16, -8, 32, 8) clipped to y >= 0
    cls[0][0, 1, 0] = 0.0  # the same box as row 0 at anchor 1: covered, and NMS-suppressed anyway
    reg = [torch.ones(1, n, 4) for n in rows]
    t_out = HeadOutputs(cls, reg, None, sizes)
    targets = [{"boxes": torch.tensor([[0.0, 0.0, 8.0, 8.0]]), "landmarks": torch.zeros(1, 5, 2)}]
    got = kd.pseudo_targets(t_out, targets)[0]
    assert got["boxes"].shape == (3, 4)
    assert torch.equal(got["boxes"][0], targets[0]["boxes"][0])
    assert {tuple(b.tolist()) for b in got["boxes"][1:]} == {(8.0, 8.0, 24.0, 24.0), (16.0, 0.0, 32.0, 8.0)}
    assert got["landmarks"].shape == (3, 5, 2) and got["landmark_valid"].tolist() == [1.0, 0.0, 0.0]


class OneAnchorDet(TinyDet):
    """The tiny detector with one anchor per location: its rows do not line up with TinyDet's two."""

    num_anchors = 1
    anchors = AnchorGrid(TinyDet.strides, ((16.0,), (64.0,), (256.0,)))


def test_mismatched_priors_fall_back_to_pseudo_targets_and_dense_mode_refuses() -> None:
    student, _ = _pair()
    teacher = OneAnchorDet()
    images = torch.randn(1, 3, 64, 64)
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 40.0]])}]
    crit = GFLCriterion.from_config(GFLLossConfig(), student)
    out = student(images)
    auto = Distiller(teacher, student, DistillConfig(teacher="x"))
    t_out = auto.teacher_outputs(images)
    assert not same_layout(out, t_out) and same_layout(out, out)
    losses = auto.losses(out, t_out, targets, crit)
    assert "loss_kd_cls" not in losses and torch.isfinite(losses["loss"])  # pseudo mode: the criterion alone
    with pytest.raises(ValueError, match="do not line up"):
        Distiller(teacher, student, DistillConfig(teacher="x", mode="dense")).losses(out, t_out, targets, crit)
    with pytest.raises(ValueError, match="distill.mode"):
        Distiller(teacher, student, DistillConfig(teacher="x", mode="soft"))


def test_hint_loss_is_pearson_based_bounded_and_trains_the_adapters() -> None:
    torch.manual_seed(0)
    student, teacher = NeckDet(16), NeckDet(24)
    kd = Distiller(teacher, student, DistillConfig(teacher="x", feat_weight=1.0))
    assert [type(a).__name__ for a in kd.adapters] == ["Conv2d"] * 3  # 16 -> 24 channels
    assert sum(p.numel() for p in kd.parameters() if p.requires_grad) == 3 * (16 * 24 + 24)  # adapters only
    images = torch.randn(2, 3, 64, 64)
    crit = GFLCriterion.from_config(GFLLossConfig(), student)
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 40.0]])}] * 2
    out = student(images)
    losses = kd.losses(out, kd.teacher_outputs(images), targets, crit)
    hint = float(losses["loss_kd_feat"].detach())
    assert 0 < hint <= 4.0  # 2 (1 - r) per channel, r in [-1, 1]
    losses["loss"].backward()
    assert kd.adapters[0].weight.grad is not None and student.neck.convs[0].weight.grad is not None
    # a student whose maps are an affine copy of the teacher's (per channel) scores zero
    twin = Distiller(teacher, teacher, DistillConfig(teacher="x", feat_weight=1.0))
    twin.teacher_outputs(images)
    teacher(images)
    assert float(twin.feature_term()) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="no neck module"):
        Distiller(TinyDet(), student, DistillConfig(teacher="x", feat_weight=1.0))
