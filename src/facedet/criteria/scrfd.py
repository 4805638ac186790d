"""SCRFD training criterion (specs/scrfd.md §1.4, §2.4, §2.5): anchors, ATSS, QFL + DIoU + kps smooth-L1.

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

import torch
from torch import nn

from facedet.assigners.atss import ATSSAssigner
from facedet.engine.distributed import reduce_mean
from facedet.losses.iou import box_loss, smooth_l1_loss
from facedet.losses.qfl import quality_focal_loss
from facedet.models.outputs import HeadOutputs
from facedet.ops.boxes import aligned_iou, distance2bbox
from facedet.priors import square_anchors

SCRFD_ANCHOR_SIZES = ((16.0, 32.0), (64.0, 128.0), (256.0, 512.0))


class SCRFDCriterion(nn.Module):
    """Loss of an SCRFD-style head; ``forward(outputs, targets) -> dict`` of scalar losses.

    ``targets`` is one dict per image with ``boxes (G, 4)`` xyxy input pixels and optionally
    ``landmarks (G, 5, 2)`` and ``landmark_valid (G,)``; ``ignore (M, 4)`` is used only when
    ``ignore_iof_thr > 0`` (the released configs do not use ignore boxes).
    """

    def __init__(
        self,
        strides: Sequence[int] = (8, 16, 32),
        anchor_sizes: Sequence[Sequence[float]] = SCRFD_ANCHOR_SIZES,
        anchor_offset: float = 0.0,
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
        if len(strides) != len(anchor_sizes):
            raise ValueError(f"{len(strides)} strides but {len(anchor_sizes)} anchor size groups")
        self.strides = tuple(int(s) for s in strides)
        self.anchor_sizes = tuple(tuple(float(v) for v in a) for a in anchor_sizes)
        self.anchor_offset = anchor_offset
        self.assigner = ATSSAssigner(topk=topk, centre_eps=centre_eps)
        self.qfl_beta = qfl_beta
        self.box_loss = box_loss(box_loss_name)
        self.cls_weight, self.box_weight, self.kps_weight = cls_weight, box_weight, kps_weight
        self.kps_beta = kps_beta
        self.ignore_iof_thr = ignore_iof_thr

    @classmethod
    def from_config(cls, loss_cfg: object, model: nn.Module) -> SCRFDCriterion:
        """Build from a ``LossConfig`` and the model's ``strides`` attribute."""
        return cls(
            strides=getattr(model, "strides", (8, 16, 32)),
            topk=loss_cfg.atss_topk,
            centre_eps=loss_cfg.centre_eps,
            qfl_beta=loss_cfg.qfl_beta,
            box_loss_name=loss_cfg.box_loss,
            cls_weight=loss_cfg.cls_weight,
            box_weight=loss_cfg.box_weight,
            kps_weight=loss_cfg.kps_weight,
            kps_beta=loss_cfg.kps_beta,
            ignore_iof_thr=loss_cfg.ignore_iof_thr,
        )

    def priors(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device) -> tuple[torch.Tensor, ...]:
        """Anchors ``(A, 4)``, centres ``(A, 2)``, per-anchor stride ``(A,)`` and per-level counts."""
        anchors, strides, counts = [], [], []
        for size, stride, sizes in zip(feat_sizes, self.strides, self.anchor_sizes, strict=True):
            a = square_anchors(tuple(size), stride, sizes, self.anchor_offset, device)
            anchors.append(a)
            strides.append(torch.full((a.shape[0],), float(stride), device=device))
            counts.append(a.shape[0])
        all_anchors = torch.cat(anchors)
        centres = (all_anchors[:, :2] + all_anchors[:, 2:]) / 2
        return all_anchors, centres, torch.cat(strides), torch.tensor(counts)

    def _ignored(self, anchors: torch.Tensor, ignore: torch.Tensor | None) -> torch.Tensor:
        """Anchors whose intersection-over-foreground with an ignore box exceeds the threshold."""
        mask = torch.zeros(anchors.shape[0], dtype=torch.bool, device=anchors.device)
        if self.ignore_iof_thr <= 0 or ignore is None or len(ignore) == 0:
            return mask
        lt = torch.maximum(anchors[:, None, :2], ignore[None, :, :2])
        rb = torch.minimum(anchors[:, None, 2:], ignore[None, :, 2:])
        inter = (rb - lt).clamp(min=0).prod(-1)
        area = (anchors[:, 2:] - anchors[:, :2]).prod(-1).clamp(min=1e-6)
        return (inter / area[:, None]).amax(1) > self.ignore_iof_thr

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
            assigned, _ = self.assigner(anchors, counts.tolist(), boxes)
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
            ign = self._ignored(anchors, tgt.get("ignore"))
            ign[idx] = False
            label_weight[b, ign] = 0.0

        pb, pa = torch.cat(pos_b), torch.cat(pos_a)
        counted = float(sum(max(len(p), 1) for p in pos_a))  # per-image floor of 1, as the reference
        num_pos = reduce_mean(torch.tensor(counted, device=device)).clamp(min=1.0)
        stride_p = strides[pa][:, None]
        c = centres[pa] / stride_p
        t_box = torch.cat(gt_box) / stride_p
        pred_box = distance2bbox(c, reg[pb, pa])
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
        losses["loss"] = sum(losses.values())
        losses["num_pos"] = num_pos.detach()
        return losses
