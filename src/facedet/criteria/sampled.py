"""Sampled-anchor training criterion of Group Sampling (paper §4-5, spec §5.2-5.3): the model's anchors
and coder, two-pass matching, a sampler, softmax cross-entropy and the least-squares IoU loss.

Per image: anchors are matched by :class:`TwoPassAssigner` (λ1 0.6 / λ2 0.4), then a sampler picks
the positives and negatives that enter the loss (group sampling by default; random 1:3, OHEM, WRS
or "all" for the paper's baselines). The loss is paper eq. (2)::

    L = sum_g [ L_cls(P_g ∪ N_g) / (|P_g| + |N_g|) + eta * L_reg(P_g) / |P_g| ]

summed over scale groups g when the sampler is grouped, over the single group "all" otherwise;
counts are totals over the batch. ``cls_loss="focal"`` uses Focal* (focal weights, normalised by
their sum). ``reg_loss``: ``"ls_iou"`` (1-IoU)^2 on decoded boxes (default), ``"log_iou"``
-ln IoU, or ``"smooth_l1"`` on the deltas (beta 1/9). Box coding: the model's (Group Sampling: no
variances, eq. 13).
An anchor's scale group is the group scale nearest to its size in log2 (eq. 4).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from facedet.assigners.two_pass import TwoPassAssigner
from facedet.coders import DeltaCoder
from facedet.losses.focal import softmax_focal_loss
from facedet.losses.ls_iou import log_iou_loss, ls_iou_loss
from facedet.models.detector import as_detector
from facedet.models.outputs import HeadOutputs
from facedet.priors import AnchorGrid
from facedet.samplers.group import GROUP_SCALES, GroupSampler, group_sum, scale_index
from facedet.samplers.random import Sampler
from facedet.samplers.stream import SampleStream


class SampledCriterion(nn.Module):
    """``forward(outputs, targets) -> {"loss", "loss_cls", "loss_reg", "num_pos"}``.

    ``targets``: one dict per image with ``boxes (G, 4)`` xyxy input pixels and optionally
    ``ignore (M, 4)`` (WIDER invalid faces, ignored at IoF >= 0.5).
    """

    def __init__(
        self,
        anchors: AnchorGrid,
        coder: DeltaCoder,
        assigner: TwoPassAssigner | None = None,
        sampler: Sampler | None = None,
        cls_loss: str = "ce",
        reg_loss: str = "ls_iou",
        reg_weight: float = 1.0,
        group_scales: Sequence[float] = GROUP_SCALES,
        focal_alpha: float = 0.25,
        focal_gamma: float = 2.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if cls_loss not in ("ce", "focal"):
            raise ValueError(f"cls_loss must be 'ce' or 'focal', got {cls_loss!r}")
        if reg_loss not in ("ls_iou", "log_iou", "smooth_l1"):
            raise ValueError(f"reg_loss must be 'ls_iou', 'log_iou' or 'smooth_l1', got {reg_loss!r}")
        self.anchors, self.coder = anchors, coder
        self.assigner = assigner or TwoPassAssigner(0.6, 0.4)
        self.sampler: Sampler = sampler if sampler is not None else GroupSampler()
        self.cls_loss, self.reg_loss, self.reg_weight = cls_loss, reg_loss, reg_weight
        self.group_scales = tuple(float(s) for s in group_scales)
        self.focal_alpha, self.focal_gamma = focal_alpha, focal_gamma
        self.seed = seed
        self.stream = SampleStream(seed)

    @classmethod
    def from_model(cls, model: nn.Module, **kwargs: object) -> SampledCriterion:
        """Criterion over ``model``'s anchors and coder; other settings from ``kwargs``."""
        det = as_detector(model)
        if not isinstance(det.coder, DeltaCoder):
            raise ValueError(f"SampledCriterion encodes deltas; {type(model).__name__} has a "
                             f"{type(det.coder).__name__}")
        return cls(det.anchors, det.coder, **kwargs)  # type: ignore[arg-type]

    def generator(self, device: torch.device) -> torch.Generator:
        """The sampler's random stream on ``device`` (seeded by ``seed``)."""
        return self.stream.on(device)

    def rng_state(self) -> torch.Tensor | None:
        """State of the sampling stream, saved in training checkpoints."""
        return self.stream.state()

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        self.stream.set_state(state)

    def sample_image(
        self, logits: torch.Tensor, anchors: torch.Tensor, groups: torch.Tensor, boxes: torch.Tensor,
        ignore: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Match and sample one image: ``(pos_idx, neg_idx, gt_index)``."""
        res = self.assigner(anchors, boxes, ignore)
        loss = None
        if self.sampler.needs_loss:
            with torch.no_grad():
                loss = F.cross_entropy(logits.float(), res.labels.clamp(min=0), reduction="none")
        pos, neg = self.sampler.sample(res.labels, generator=self.generator(anchors.device), loss=loss, groups=groups)
        return pos, neg, res.gt_index

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        cls = torch.cat(outputs.cls, dim=1)
        reg = torch.cat(outputs.reg, dim=1)
        device = cls.device
        if len(targets) != cls.shape[0]:
            raise ValueError(f"{len(targets)} targets for a batch of {cls.shape[0]}")
        anchors = self.anchors.boxes(outputs.feat_sizes, device)
        sizes = self.anchors.anchor_sizes(outputs.feat_sizes, device)
        if anchors.shape[0] != cls.shape[1]:
            raise ValueError(f"head gives {cls.shape[1]} rows per image but the priors are {anchors.shape[0]}")
        groups = scale_index(sizes, self.group_scales)
        rows_b, rows_a, rows_y, pos_b, pos_a, pos_gt = [], [], [], [], [], []
        for b, tgt in enumerate(targets):
            boxes = tgt["boxes"].to(device=device, dtype=torch.float32).reshape(-1, 4)
            ignore = tgt.get("ignore")
            pos, neg, gt_index = self.sample_image(cls[b].detach(), anchors, groups, boxes,
                                                   None if ignore is None else ignore.to(device))
            idx = torch.cat([pos, neg])
            rows_b.append(torch.full_like(idx, b))
            rows_a.append(idx)
            rows_y.append(torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]))
            pos_b.append(torch.full_like(pos, b))
            pos_a.append(pos)
            pos_gt.append(boxes[gt_index[pos]] if len(pos) else boxes.new_zeros((0, 4)))
        rb, ra, ry = torch.cat(rows_b), torch.cat(rows_a), torch.cat(rows_y)
        pb, pa, pg = torch.cat(pos_b), torch.cat(pos_a), torch.cat(pos_gt)
        grouped = self.sampler.grouped
        n_groups = len(self.group_scales) if grouped else 1
        g_rows = groups[ra] if grouped else torch.zeros_like(ra)
        g_pos = groups[pa] if grouped else torch.zeros_like(pa)

        logits = cls[rb, ra].float()
        if self.cls_loss == "ce":
            per_row, weight = F.cross_entropy(logits, ry, reduction="none"), torch.ones(len(ry), device=device)
        else:
            per_row, weight = softmax_focal_loss(logits, ry, self.focal_alpha, self.focal_gamma)
        denom_cls = group_sum(weight, g_rows, n_groups)
        loss_cls = (group_sum(per_row, g_rows, n_groups) / denom_cls.clamp(min=1e-6)).sum()

        deltas = reg[pb, pa].float()
        if self.reg_loss == "smooth_l1":
            target = self.coder.encode(pg, anchors[pa])
            per_pos = F.smooth_l1_loss(deltas, target, reduction="none", beta=1.0 / 9.0).sum(-1)
        else:
            pred = self.coder.decode(deltas, anchors[pa])
            per_pos = (ls_iou_loss if self.reg_loss == "ls_iou" else log_iou_loss)(pred, pg)
        n_pos = group_sum(torch.ones_like(per_pos), g_pos, n_groups)
        loss_reg = (group_sum(per_pos, g_pos, n_groups) / n_pos.clamp(min=1.0)).sum()
        loss = loss_cls + self.reg_weight * loss_reg
        return {"loss": loss, "loss_cls": loss_cls.detach(), "loss_reg": loss_reg.detach(),
                "num_pos": torch.tensor(float(len(pa)), device=device)}
