"""SSD/S3FD MultiBox training criterion (EXTD): anchors + max-IoU matching + 3:1 hard-negative
mining + softmax CE / Smooth-L1, as clovaai/EXTD_Pytorch ``MultiBoxLoss`` (spec families.md §1.4).

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
from torch import nn

from ..assigners.max_iou import MaxIoUAssigner
from ..coders import encode
from ..losses.multibox import background_loss, multibox_loss
from ..models.outputs import HeadOutputs
from ..priors import square_anchors
from ..samplers.hard_negative import hard_negative_mask


def _iof(anchors: torch.Tensor, regions: torch.Tensor) -> torch.Tensor:
    """Max over regions of intersection / anchor area, ``(A,)``."""
    lt = torch.maximum(anchors[:, None, :2], regions[None, :, :2])
    rb = torch.minimum(anchors[:, None, 2:], regions[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = (anchors[:, 2:] - anchors[:, :2]).prod(-1).clamp(min=1e-6)
    return (inter / area[:, None]).amax(dim=1)


class MultiBoxCriterion(nn.Module):
    """S3FD-style criterion for one-anchor-per-location softmax heads (EXTD, S3FD)."""

    def __init__(
        self,
        strides: Sequence[int] = (4, 8, 16, 32, 64, 128),
        anchor_sizes: Sequence[float] = (16, 32, 64, 128, 256, 512),
        anchor_offset: float = 0.5,
        variances: tuple[float, float] = (0.1, 0.2),
        assigner: MaxIoUAssigner | None = None,
        neg_pos_ratio: float = 3.0,
        box_weight: float = 1.0,
        ignore_iof_thr: float = -1.0,
        min_neg: int = 0,
    ) -> None:
        super().__init__()
        if len(strides) != len(anchor_sizes):
            raise ValueError(f"{len(strides)} strides but {len(anchor_sizes)} anchor sizes")
        self.strides = tuple(int(s) for s in strides)
        self.anchor_sizes = tuple(float(s) for s in anchor_sizes)
        self.anchor_offset = anchor_offset
        self.variances = variances
        self.assigner = assigner or MaxIoUAssigner()
        self.neg_pos_ratio, self.box_weight = neg_pos_ratio, box_weight
        self.ignore_iof_thr, self.min_neg = ignore_iof_thr, min_neg

    @classmethod
    def from_model(cls, model: nn.Module, **kwargs) -> MultiBoxCriterion:
        """Anchors and coding read from the model's attributes; other settings from ``kwargs``."""
        return cls(
            strides=model.strides,
            anchor_sizes=model.anchor_sizes,
            anchor_offset=getattr(model, "anchor_offset", 0.5),
            variances=tuple(getattr(model, "variances", (0.1, 0.2))),
            **kwargs,
        )

    def anchors(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device) -> torch.Tensor:
        return torch.cat([
            square_anchors(tuple(fs), s, [a], self.anchor_offset, device)
            for fs, s, a in zip(feat_sizes, self.strides, self.anchor_sizes, strict=True)
        ])

    @torch.no_grad()
    def targets(
        self, anchors: torch.Tensor, targets: Sequence[dict[str, torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``labels (B, A)``, encoded ``reg_targets (B, A, 4)`` and mining ``valid (B, A)``."""
        labels, regs, valid = [], [], []
        for t in targets:
            gt = t["boxes"].to(anchors.device, anchors.dtype).reshape(-1, 4)
            res = self.assigner(anchors, gt)
            labels.append(res.labels)
            if gt.numel():
                regs.append(encode(gt[res.gt_index.clamp(min=0)], anchors, self.variances))
            else:
                regs.append(torch.zeros_like(anchors))
            ok = torch.ones_like(res.labels, dtype=torch.bool)
            ign = t.get("ignore")
            if self.ignore_iof_thr > 0 and ign is not None and ign.numel():
                ok = _iof(anchors, ign.to(anchors.device, anchors.dtype).reshape(-1, 4)) <= self.ignore_iof_thr
            valid.append(ok)
        return torch.stack(labels), torch.stack(regs), torch.stack(valid)

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        cls = torch.cat(outputs.cls, dim=1)
        reg = torch.cat(outputs.reg, dim=1)
        anchors = self.anchors(outputs.feat_sizes, reg.device)
        labels, reg_t, valid = self.targets(anchors, targets)
        pos = labels > 0
        neg = hard_negative_mask(background_loss(cls.float()), pos, self.neg_pos_ratio, valid, self.min_neg)
        num_pos = pos.sum().float()
        try:
            from ..engine.distributed import reduce_mean

            num_pos = reduce_mean(num_pos)
        except ImportError:  # engine not installed: single process
            pass
        normalizer = num_pos if num_pos > 0 else torch.tensor(float(len(targets)), device=reg.device)
        loss_cls, loss_box = multibox_loss(cls, reg, labels, reg_t, pos, neg, normalizer, self.box_weight)
        return {"loss": loss_cls + loss_box, "loss_cls": loss_cls, "loss_box": loss_box}
