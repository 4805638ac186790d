"""Knowledge distillation from a teacher detector: dense targets from its scores and boxes.

Two modes, chosen by whether the teacher's priors line up with the student's:

- ``dense`` (same number of rows per image at every level, e.g. any SCRFD teacher for any SCRFD
  student): per prior, a quality-focal loss of the student's face logit against the teacher's face
  probability (GFL's QFL with a soft target, as in LD / "Localization Distillation", Zheng et al.
  2022), normalised by the teacher's soft positive count; and a GIoU loss between both decoded boxes
  on the priors where the teacher's probability is at least ``box_thr``, weighted by that probability.
  Boxes are compared in input pixels, so the two coders may differ.
- ``pseudo`` (any other pair, e.g. an SCRFD teacher for an EXTD student): the teacher's detections
  above ``pseudo_thr`` that overlap no ground-truth face (IoU < 0.5) join the image's targets before
  the student's own criterion runs. This is the only form that works across prior layouts.

The face logit of a 2-class softmax head is ``z_face - z_background`` (its softmax is the sigmoid of
that difference), so sigmoid and softmax heads distil into each other.

Choices (ours; LD leaves them open): ``cls_weight`` 1 (the GT QFL's own weight), ``box_weight`` 1,
``box_thr`` 0.1 (below it the teacher's box is mostly background noise), ``pseudo_thr`` 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from facedet.coders import DistanceCoder
from facedet.config import DistillConfig
from facedet.losses.iou import giou_loss
from facedet.losses.qfl import quality_focal_loss
from facedet.models.detector import Detector, as_detector
from facedet.models.outputs import HeadOutputs
from facedet.ops.boxes import box_iou

PSEUDO_MIN_SIDE = 2.0  # pixels: thinner teacher boxes (clipped at the canvas border) are no faces to learn
PSEUDO_MAX_FACES = 300  # per image, after NMS (WIDER's most crowded image has about 1,700 faces; crops far fewer)


def face_logit(cls: torch.Tensor) -> torch.Tensor:
    """``(B, A)`` face logit of ``(B, A, C)`` logits: the logit itself (C=1) or ``z1 - z0`` (softmax, C=2)."""
    if cls.shape[-1] == 1:
        return cls[..., 0]
    if cls.shape[-1] == 2:
        return cls[..., 1] - cls[..., 0]
    raise ValueError(f"cannot distil a {cls.shape[-1]}-class head (1 sigmoid or 2 softmax logits expected)")


def dense_boxes(det: Detector, outputs: HeadOutputs) -> torch.Tensor:
    """``(B, A, 4)`` xyxy input-pixel boxes decoded at every prior with the model's own coder."""
    reg = torch.cat(outputs.reg, dim=1).float()
    anchors = det.anchors.boxes(outputs.feat_sizes, reg.device)
    if isinstance(det.coder, DistanceCoder):
        centres = (anchors[:, :2] + anchors[:, 2:]) / 2
        strides = det.anchors.strides_per_anchor(outputs.feat_sizes, reg.device)
        return det.coder.decode(reg, centres.expand(reg.shape[0], -1, -1), strides.expand(reg.shape[0], -1))
    return det.coder.decode(reg, anchors.expand(reg.shape[0], -1, -1))


def same_layout(student: HeadOutputs, teacher: HeadOutputs) -> bool:
    """True when both give the same rows per level on the same feature sizes (dense mode possible)."""
    return (student.feat_sizes == teacher.feat_sizes
            and [c.shape[1] for c in student.cls] == [c.shape[1] for c in teacher.cls])


class Renormalize(nn.Module):
    """Turns images normalised for the student into images normalised for the teacher."""

    ms: torch.Tensor
    ss: torch.Tensor
    mt: torch.Tensor
    st: torch.Tensor

    def __init__(self, student: Detector, teacher: Detector) -> None:
        super().__init__()

        def stats(d: Detector) -> tuple[torch.Tensor, torch.Tensor]:
            m = torch.as_tensor(d.input_mean, dtype=torch.float32).reshape(-1, 1, 1).expand(3, 1, 1)
            s = torch.as_tensor(d.input_std, dtype=torch.float32).reshape(-1, 1, 1).expand(3, 1, 1)
            return m, s

        (ms, ss), (mt, st) = stats(student), stats(teacher)
        self.flip = student.input_rgb != teacher.input_rgb
        self.identity = not self.flip and torch.equal(ms, mt) and torch.equal(ss, st)
        self.register_buffer("ms", ms.clone(), persistent=False)
        self.register_buffer("ss", ss.clone(), persistent=False)
        self.register_buffer("mt", mt.clone(), persistent=False)
        self.register_buffer("st", st.clone(), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.identity:
            return images
        pixels = images * self.ss.to(images) + self.ms.to(images)
        if self.flip:
            pixels = pixels.flip(1)
        return (pixels - self.mt.to(images)) / self.st.to(images)


class Distiller(nn.Module):
    """Runs a frozen ``teacher`` on each training batch and adds the distillation terms.

    ``teacher_outputs(images)`` runs the teacher (the trainer calls it inside its autocast);
    ``losses(student_outputs, teacher_outputs, targets, criterion)`` returns the student criterion's losses with
    ``loss_kd_cls`` / ``loss_kd_box`` added to ``loss`` (dense mode) or the criterion's losses on
    targets that include the teacher's extra faces (pseudo mode).
    """

    def __init__(self, teacher: nn.Module, student: nn.Module, cfg: DistillConfig) -> None:
        super().__init__()
        if cfg.mode not in ("auto", "dense", "pseudo"):
            raise ValueError(f"distill.mode must be auto, dense or pseudo, got {cfg.mode!r}")
        self.teacher = teacher.eval().requires_grad_(False)
        self.t_det, self.s_det = as_detector(teacher), as_detector(student)
        self.renorm = Renormalize(self.s_det, self.t_det)
        self.cfg = cfg

    def train(self, mode: bool = True) -> Distiller:
        super().train(mode)
        self.teacher.eval()  # frozen statistics whatever the trainer does
        return self

    @torch.no_grad()
    def teacher_outputs(self, images: torch.Tensor) -> HeadOutputs:
        x = self.renorm(images)
        if images.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        return self.teacher(x)

    def dense_terms(self, student: HeadOutputs, teacher: HeadOutputs) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        t_prob = face_logit(torch.cat(teacher.cls, dim=1).float()).sigmoid()
        s_logit = face_logit(torch.cat(student.cls, dim=1).float())
        norm = t_prob.sum().clamp(min=1.0)
        loss_cls = quality_focal_loss(s_logit[..., None], t_prob[..., None], cfg.beta).sum() / norm
        keep = t_prob >= cfg.box_thr
        if keep.any():
            s_box = dense_boxes(self.s_det, student)[keep]
            t_box = dense_boxes(self.t_det, teacher)[keep]
            w = t_prob[keep]
            loss_box = (giou_loss(s_box, t_box) * w).sum() / w.sum()
        else:
            loss_box = s_logit.sum() * 0.0
        return {"loss_kd_cls": cfg.cls_weight * loss_cls, "loss_kd_box": cfg.box_weight * loss_box}

    def pseudo_targets(self, teacher: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]
                       ) -> list[dict[str, torch.Tensor]]:
        """``targets`` with the teacher's confident faces (clipped to the canvas, at least 2 px a side, NMS 0.4,
        at most 300) that no ground truth covers (IoU < 0.5) added."""
        prob = face_logit(torch.cat(teacher.cls, dim=1).float()).sigmoid()
        h, w = (n * self.t_det.anchors.strides[0] for n in teacher.feat_sizes[0])  # the input canvas
        boxes = dense_boxes(self.t_det, teacher)
        boxes = torch.stack([boxes[..., 0].clamp(0, w), boxes[..., 1].clamp(0, h),
                             boxes[..., 2].clamp(0, w), boxes[..., 3].clamp(0, h)], dim=-1)
        sane = ((boxes[..., 2:] - boxes[..., :2]) >= PSEUDO_MIN_SIDE).all(-1)
        out = []
        for b, tgt in enumerate(targets):
            keep = (prob[b] >= self.cfg.pseudo_thr) & sane[b]
            cand, score = boxes[b][keep], prob[b][keep]
            cand = cand[_nms(cand, score, 0.4)[:PSEUDO_MAX_FACES]]
            gt = tgt["boxes"].reshape(-1, 4).to(cand)
            if len(gt) and len(cand):
                cand = cand[box_iou(cand, gt).amax(1) < 0.5]
            new = dict(tgt)
            new["boxes"] = torch.cat([gt, cand])
            if "landmarks" in tgt:
                new["landmarks"] = torch.cat([tgt["landmarks"], tgt["landmarks"].new_zeros(len(cand), 5, 2)])
                valid = tgt.get("landmark_valid", torch.ones(len(gt)))
                new["landmark_valid"] = torch.cat([valid, valid.new_zeros(len(cand))])
            out.append(new)
        return out

    def losses(self, student: HeadOutputs, teacher: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]],
               criterion: nn.Module) -> dict[str, torch.Tensor]:
        dense = same_layout(student, teacher)
        if self.cfg.mode == "dense" and not dense:
            raise ValueError("distill.mode=dense: the teacher's priors do not line up with the student's "
                             "(different rows per level); use distill.mode=pseudo")
        if self.cfg.mode == "pseudo" or not dense:
            return dict(criterion(student, self.pseudo_targets(teacher, targets)))
        losses = dict(criterion(student, targets))
        terms = self.dense_terms(student, teacher)
        losses.update(terms)
        losses["loss"] = losses["loss"] + terms["loss_kd_cls"] + terms["loss_kd_box"]
        return losses


def _nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> torch.Tensor:
    from facedet.ops.nms import nms_torch

    return nms_torch(boxes, scores, thr)

