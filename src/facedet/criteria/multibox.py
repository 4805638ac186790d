"""SSD/S3FD MultiBox training criterion (EXTD, DSFD / ASFD): the model's anchors and coder + max-IoU
matching + 3:1 hard-negative mining + softmax CE / Smooth-L1, as clovaai/EXTD_Pytorch ``MultiBoxLoss``
(spec families.md §1.4).

ASFD's DRMC (spec §3.5) is two settings of the same criterion: ``box_loss="diou"`` (DIoU on the decoded
boxes instead of Smooth-L1 on the offsets; size deltas clamped at log(1000/16) before ``exp``) and
``margin`` (CosFace's ``s * m``, subtracted from the true class's logit of every matched or mined row
before the mining and the CE; with a cosine head of scale ``s`` the logits are ``s cos theta``).

``forward(outputs: HeadOutputs, targets) -> {"loss", "loss_cls", "loss_box"}``; ``targets`` is one dict
per image with ``boxes (G, 4)`` xyxy in network-input pixels and optionally ``ignore (M, 4)``.
Choices (settings): ``box_weight`` 1.0 as the code (the paper's "balancing parameter 4" is ambiguous);
ignore boxes are not used by the reference (``ignore_iof_thr=-1``); with ``ignore_iof_thr > 0`` anchors
covered by an ignore box more than that fraction are never mined as negatives. Under DDP the
positive count is averaged over processes, like the reference's global DataParallel batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..assigners.base import Matcher, covered
from ..assigners.s3fd import S3FDMatcher
from ..coders import DETECTRON_MAX_LOG_WH, DeltaCoder, decode
from ..distributed import reduce_mean
from ..losses.iou import diou_loss
from ..losses.multibox import background_loss, multibox_loss
from ..models.detector import as_detector
from ..models.outputs import HeadOutputs
from ..priors import AnchorGrid
from ..samplers.hard_negative import hard_negative_mask


class MultiBoxCriterion(nn.Module):
    """S3FD-style criterion for softmax heads over anchors (EXTD, S3FD)."""

    def __init__(
        self,
        anchors: AnchorGrid,
        coder: DeltaCoder | None = None,
        assigner: Matcher | None = None,
        neg_pos_ratio: float = 3.0,
        box_weight: float = 1.0,
        ignore_iof_thr: float = -1.0,
        min_neg: int = 0,
        box_loss: str = "smooth_l1",
        margin: float = 0.0,
    ) -> None:
        super().__init__()
        self.anchors = anchors
        self.coder = coder or DeltaCoder()
        self.assigner: Matcher = assigner or S3FDMatcher()
        self.neg_pos_ratio, self.box_weight = neg_pos_ratio, box_weight
        self.ignore_iof_thr, self.min_neg = ignore_iof_thr, min_neg
        if box_loss not in ("smooth_l1", "diou"):
            raise ValueError(f"box_loss must be 'smooth_l1' or 'diou', got {box_loss!r}")
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.box_loss, self.margin = box_loss, float(margin)

    @classmethod
    def from_model(cls, model: nn.Module, **kwargs) -> MultiBoxCriterion:
        """Anchors and coder read from the model; other settings from ``kwargs``."""
        det = as_detector(model)
        if not isinstance(det.coder, DeltaCoder):
            raise ValueError(f"MultiBoxCriterion encodes deltas; {type(model).__name__} has a "
                             f"{type(det.coder).__name__}")
        return cls(det.anchors, det.coder, **kwargs)

    @torch.no_grad()
    def targets(
        self, anchors: torch.Tensor, targets: Sequence[dict[str, torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``labels (B, A)``, encoded ``reg_targets (B, A, 4)`` and mining ``valid (B, A)``."""
        labels, regs = [], []
        for t in targets:
            gt = t["boxes"].to(anchors.device, anchors.dtype).reshape(-1, 4)
            res = self.assigner(anchors, gt).with_ignored(covered(anchors, t.get("ignore"), self.ignore_iof_thr))
            labels.append(res.labels)
            if gt.numel():
                regs.append(self.coder.encode(gt[res.gt_index.clamp(min=0)], anchors))
            else:
                regs.append(torch.zeros_like(anchors))
        lab = torch.stack(labels)
        return lab, torch.stack(regs), lab >= 0

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        cls = torch.cat(outputs.cls, dim=1)
        reg = torch.cat(outputs.reg, dim=1)
        anchors = self.anchors.boxes(outputs.feat_sizes, reg.device)
        labels, reg_t, valid = self.targets(anchors, targets)
        pos = labels > 0
        if self.margin:
            true = F.one_hot(labels.clamp(min=0), cls.shape[-1]).to(cls.dtype)
            cls = cls - self.margin * true * valid.unsqueeze(-1).to(cls.dtype)
        neg = hard_negative_mask(background_loss(cls.float()), pos, self.neg_pos_ratio, valid, self.min_neg)
        num_pos = reduce_mean(pos.sum().float())
        normalizer = num_pos if num_pos > 0 else torch.tensor(float(len(targets)), device=reg.device)
        loss_cls, loss_box = multibox_loss(cls, reg, labels, reg_t, pos, neg, normalizer, self.box_weight)
        if self.box_loss == "diou":
            a = anchors.unsqueeze(0).expand_as(reg)[pos]
            v = self.coder.variances
            pred = decode(reg[pos].float(), a, v, DETECTRON_MAX_LOG_WH)
            loss_box = self.box_weight * diou_loss(pred, decode(reg_t[pos].float(), a, v)).sum() / normalizer
        return {"loss": loss_cls + loss_box, "loss_cls": loss_cls, "loss_box": loss_box}
