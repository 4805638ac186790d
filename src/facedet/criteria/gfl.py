"""GFL-style training criterion of SCRFD (specs/scrfd.md §1.4, §2.4, §2.5): the model's anchors,
ATSS, quality focal loss + DIoU on distance-decoded boxes + landmark smooth-L1.

Per positive anchor with centre ``c`` (in stride units) the predicted box is
``distance2bbox(c, reg)``; the quality target is its IoU with the gt (detached), the classification
target of every other anchor is 0. Box and keypoint losses are weighted by the detached predicted
score of the positive and divided by the sum of those weights; the QFL sum is divided by the number
of positives. Normalisers as insightface's ``SCRFDHead.loss``: positives are counted per image with a
floor of 1, both factors are averaged over processes under DDP, and the weight sum is not clamped
(only guarded against exactly zero, where the reference would divide 0 by 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from facedet.assigners.atss import ATSSAssigner
from facedet.assigners.base import covered
from facedet.coders import DistanceCoder
from facedet.distributed import reduce_mean
from facedet.losses.iou import box_loss, smooth_l1_loss
from facedet.losses.qfl import quality_focal_loss
from facedet.models.detector import as_detector
from facedet.models.outputs import HeadOutputs
from facedet.ops.boxes import aligned_iou
from facedet.priors import AnchorGrid


@dataclass(frozen=True)
class GFLLossConfig:
    """The ``loss.*`` settings of a GFL run (SCRFD's released configs, spec §2.4-2.5)."""

    atss_topk: int = 9
    centre_eps: float = 0.001  # normalised centre-in-gt margin (face-specific ATSS, mode 0)
    qfl_beta: float = 2.0
    box_loss: str = "diou"  # diou | giou | iou
    cls_weight: float = 1.0
    box_weight: float = 2.0
    kps_weight: float = 0.1
    kps_beta: float = 1.0 / 9.0
    ignore_iof_thr: float = -1.0  # > 0: anchors whose IoF with an ignore box exceeds it are not trained

    def __post_init__(self) -> None:
        from facedet import checks as C

        C.integer("loss.atss_topk", self.atss_topk)
        C.choice("loss.box_loss", self.box_loss, ("diou", "giou", "iou"))
        for name in ("centre_eps", "qfl_beta", "cls_weight", "box_weight", "kps_weight", "kps_beta"):
            C.number(f"loss.{name}", getattr(self, name), 0.0)
        if self.ignore_iof_thr > 1.0:
            raise ValueError(f"loss.ignore_iof_thr must be <= 1 (or <= 0: off), got {self.ignore_iof_thr}")


class GFLCriterion(nn.Module):
    """Loss of an SCRFD-style head; ``forward(outputs, targets) -> dict`` of scalar losses.

    ``targets`` is one dict per image with ``boxes (G, 4)`` xyxy input pixels and optionally
    ``landmarks (G, 5, 2)`` and ``landmark_valid (G,)``; ``ignore (M, 4)`` is used only when
    ``ignore_iof_thr > 0`` (the released configs do not use ignore boxes).
    """

    def __init__(
        self,
        anchors: AnchorGrid,
        coder: DistanceCoder | None = None,
        topk: int = 9,
        centre_eps: float = 0.001,
        qfl_beta: float = 2.0,
        box_loss_name: str = "diou",
        cls_weight: float = 1.0,
        box_weight: float = 2.0,
        kps_weight: float = 0.1,
        kps_beta: float = 1.0 / 9.0,
        ignore_iof_thr: float = -1.0,
    ) -> None:
        super().__init__()
        self.anchors = anchors
        self.coder = coder or DistanceCoder()
        self.assigner = ATSSAssigner(topk=topk, centre_eps=centre_eps)
        self.qfl_beta = qfl_beta
        self.box_loss = box_loss(box_loss_name)
        self.cls_weight, self.box_weight, self.kps_weight = cls_weight, box_weight, kps_weight
        self.kps_beta = kps_beta
        self.ignore_iof_thr = ignore_iof_thr

    @classmethod
    def from_config(cls, cfg: GFLLossConfig, model: nn.Module) -> GFLCriterion:
        """The criterion of ``model`` (its anchors and coder) with the ``loss.*`` settings ``cfg``."""
        det = as_detector(model)
        if not isinstance(det.coder, DistanceCoder):
            raise ValueError(f"GFLCriterion decodes distances; {type(model).__name__} has a {type(det.coder).__name__}")
        return cls(det.anchors, det.coder, topk=cfg.atss_topk, centre_eps=cfg.centre_eps, qfl_beta=cfg.qfl_beta,
                   box_loss_name=cfg.box_loss, cls_weight=cfg.cls_weight, box_weight=cfg.box_weight,
                   kps_weight=cfg.kps_weight, kps_beta=cfg.kps_beta, ignore_iof_thr=cfg.ignore_iof_thr)

    def priors(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
        """Anchors ``(A, 4)``, centres ``(A, 2)``, per-anchor stride ``(A,)`` and per-level counts."""
        anchors = self.anchors.boxes(feat_sizes, device)
        centres = (anchors[:, :2] + anchors[:, 2:]) / 2
        return anchors, centres, self.anchors.strides_per_anchor(feat_sizes, device), self.anchors.counts(feat_sizes)

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        cls = torch.cat(outputs.cls, dim=1).float()  # (B, A, C)
        reg = torch.cat(outputs.reg, dim=1).float()  # (B, A, 4)
        kps = torch.cat(outputs.kps, dim=1).float() if outputs.kps is not None else None
        device = cls.device
        batch, num_anchors, num_classes = cls.shape
        if len(targets) != batch:
            raise ValueError(f"{len(targets)} targets for a batch of {batch}")
        anchors, centres, strides, counts = self.priors(outputs.feat_sizes, device)
        if anchors.shape[0] != num_anchors:
            raise ValueError(f"head gives {num_anchors} rows per image but the priors are {anchors.shape[0]}")

        pos_b, pos_a, gt_box, gt_kps, gt_kps_valid, gt_label = [], [], [], [], [], []
        label_weight = torch.ones(batch, num_anchors, device=device)
        for b, tgt in enumerate(targets):
            boxes = tgt["boxes"].to(device=device, dtype=torch.float32).reshape(-1, 4)
            assigned = self.assigner(anchors, counts, boxes).gt_index
            idx = torch.nonzero(assigned >= 0).squeeze(1)
            gi = assigned[idx]
            pos_b.append(torch.full_like(idx, b))
            pos_a.append(idx)
            gt_box.append(boxes[gi])
            labels = tgt.get("labels")
            gt_label.append(labels.to(device)[gi].long() if labels is not None else torch.zeros_like(gi))
            if kps is not None:
                lm = tgt.get("landmarks")
                if lm is None:
                    gt_kps.append(torch.zeros(len(gi), 5, 2, device=device))
                    gt_kps_valid.append(torch.zeros(len(gi), device=device))
                else:
                    valid = tgt.get("landmark_valid")
                    valid = torch.ones(len(lm), device=device) if valid is None else valid.to(device).float()
                    gt_kps.append(lm.to(device=device, dtype=torch.float32).reshape(-1, 5, 2)[gi])
                    gt_kps_valid.append(valid[gi])
            ign = covered(anchors, tgt.get("ignore"), self.ignore_iof_thr)
            ign[idx] = False
            label_weight[b, ign] = 0.0

        pb, pa = torch.cat(pos_b), torch.cat(pos_a)
        counted = float(sum(max(len(p), 1) for p in pos_a))  # per-image floor of 1, as the reference
        num_pos = reduce_mean(torch.tensor(counted, device=device)).clamp(min=1.0)
        stride_p = strides[pa][:, None]
        c = centres[pa] / stride_p
        t_box = torch.cat(gt_box) / stride_p
        pred_box = self.coder.decode(reg[pb, pa], c, 1.0)  # both in stride units
        quality = aligned_iou(pred_box.detach(), t_box).clamp(min=0)

        cls_target = torch.zeros_like(cls)
        cls_target[pb, pa, torch.cat(gt_label)] = quality
        loss_cls = (quality_focal_loss(cls, cls_target, self.qfl_beta) * label_weight[..., None]).sum() / num_pos

        weight = cls[pb, pa].detach().sigmoid().amax(-1)
        weight_sum = reduce_mean(weight.sum())
        weight_sum = torch.where(weight_sum > 0, weight_sum, torch.ones_like(weight_sum))
        loss_box = (self.box_loss(pred_box, t_box) * weight).sum() / weight_sum
        losses = {"loss_cls": self.cls_weight * loss_cls, "loss_bbox": self.box_weight * loss_box}
        if kps is not None:
            kp = torch.cat(gt_kps) / stride_p[:, :, None]
            kps_target = (kp - c[:, None, :]).reshape(-1, 10)
            kw = (torch.cat(gt_kps_valid) * weight)[:, None]
            loss_kps = (smooth_l1_loss(kps[pb, pa], kps_target, self.kps_beta) * kw).sum() / weight_sum
            losses["loss_kps"] = self.kps_weight * loss_kps
        total: torch.Tensor = losses["loss_cls"] + losses["loss_bbox"]
        if "loss_kps" in losses:
            total = total + losses["loss_kps"]
        losses["loss"] = total
        losses["num_pos"] = num_pos.detach()
        return losses
