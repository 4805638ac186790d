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

With ``feat_weight > 0`` both modes also imitate the teacher's neck maps (FitNets-style hints at the
neck outputs): the mean squared error between the student's maps, through a 1x1 adapter where the
widths differ, and the teacher's, each map standardised per image and channel first, as PKD does
("PKD: General Distillation Framework for Object Detectors via Pearson Correlation Coefficient", Cao et
al. 2022). Standardised, the term is ``2 (1 - r)`` per channel (r: the Pearson correlation), so it is
bounded whatever the two networks' feature scales, where raw maps of a random student were thousands
of times the teacher's.
The maps are read by forward hooks on the ``neck`` module of both networks.

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

    s_det: Detector

    @property
    def t_det(self) -> Detector:
        """The teacher seen as a :class:`Detector` (the same module as ``teacher``)."""
        return as_detector(self.teacher)

    def __init__(self, teacher: nn.Module, student: nn.Module, cfg: DistillConfig) -> None:
        super().__init__()
        if cfg.mode not in ("auto", "dense", "pseudo"):
            raise ValueError(f"distill.mode must be auto, dense or pseudo, got {cfg.mode!r}")
        self.teacher = teacher.eval().requires_grad_(False)
        # the student is read, never owned: kept out of this module's children (its parameters, state dict
        # and device moves belong to the trainer's model)
        object.__setattr__(self, "s_det", as_detector(student))
        self.renorm = Renormalize(self.s_det, self.t_det)
        self.cfg = cfg
        self.adapters = nn.ModuleList()
        self._maps: dict[str, list[torch.Tensor]] = {}
        if cfg.feat_weight > 0:
            for role, net in (("student", student), ("teacher", teacher)):
                neck = getattr(net, "neck", None)
                if not isinstance(neck, nn.Module):
                    raise ValueError(f"distill.feat_weight > 0: the {role} ({type(net).__name__}) has no neck module")
                neck.register_forward_hook(self._keeper(role))
            widths = [_widths(net) for net in (student, teacher)]
            if len(widths[0]) != len(widths[1]):
                raise ValueError(f"distill.feat_weight > 0: the student's neck gives {len(widths[0])} maps, "
                                 f"the teacher's {len(widths[1])}")
            self.adapters.extend(nn.Identity() if cs == ct else nn.Conv2d(cs, ct, 1)
                                 for cs, ct in zip(*widths, strict=True))

    def _keeper(self, role: str):  # type: ignore[no-untyped-def]
        def hook(module: nn.Module, args: object, out: Sequence[torch.Tensor]) -> None:
            self._maps[role] = list(out)

        return hook

    def feature_term(self) -> torch.Tensor:
        """The hint loss on the maps of the last student and teacher forwards."""
        s_maps, t_maps = self._maps.get("student"), self._maps.get("teacher")
        if s_maps is None or t_maps is None:
            raise RuntimeError("feature distillation: run the student and the teacher forward first")
        total = torch.zeros((), device=s_maps[0].device)
        for adapt, s, t in zip(self.adapters, s_maps, t_maps, strict=True):
            total = total + (_standardise(adapt(s.float())) - _standardise(t.float())).pow(2).mean()
        return self.cfg.feat_weight * total / len(s_maps)

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
            losses = dict(criterion(student, self.pseudo_targets(teacher, targets)))
            terms = {}
        else:
            losses = dict(criterion(student, targets))
            terms = self.dense_terms(student, teacher)
        if self.cfg.feat_weight > 0:
            terms["loss_kd_feat"] = self.feature_term()
        losses.update(terms)
        for term in terms.values():
            losses["loss"] = losses["loss"] + term
        return losses


def _standardise(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Zero mean, unit variance over the spatial positions of each image and channel."""
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = x.var(dim=(2, 3), keepdim=True, unbiased=False).add(eps).sqrt()
    return (x - mean) / std


def _widths(net: nn.Module) -> list[int]:
    """Channels of each neck map, from one forward of a small dummy image."""
    maps: list[torch.Tensor] = []
    handle = net.neck.register_forward_hook(lambda m, a, out: maps.extend(out))  # type: ignore[union-attr]
    was = net.training
    try:
        with torch.no_grad():
            net.eval()(torch.zeros(1, 3, 64, 64, device=next(net.parameters()).device))
    finally:
        handle.remove()
        net.train(was)
    return [int(m.shape[1]) for m in maps]


def _nms(boxes: torch.Tensor, scores: torch.Tensor, thr: float) -> torch.Tensor:
    from facedet.ops.nms import nms_torch

    return nms_torch(boxes, scores, thr)

