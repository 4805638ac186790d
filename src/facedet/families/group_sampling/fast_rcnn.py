"""Grouped Fast R-CNN second stage (paper §4.2 "Grouped Fast R-CNN", §6.3, Table 13; spec §5.4).

Proposals of the first stage (RPN outputs after NMS) are pooled with RoIAlign (7x7, from the
detection level: P2, or P3 for the R18/R152 models) and classified/refined by two FC-1024 layers
(Fast R-CNN's head; the paper does not give its head, spec [design]). Training: ground truths join
the proposals, proposals are matched two-pass with λ1 = 0.6, λ2 = 0.5, grouped by their reference
scale (eq. 4: nearest of 16/32/64/128 in log2) and group-sampled as the anchors are; the loss is
eq. (2) with the least-squares IoU loss. Test: the final score is the mean of the first- and
second-stage face probabilities (the paper "simply ensembles" them; the mean is our choice).
Deltas are relative to the proposal, without variances (eq. 13).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from facedet.assigners.two_pass import TwoPassAssigner
from facedet.coders import DETECTRON_MAX_LOG_WH, VARIANCE_FREE, DeltaCoder
from facedet.criteria.sampled import SampledCriterion
from facedet.losses.ls_iou import ls_iou_loss
from facedet.models.outputs import HeadOutputs
from facedet.ops.nms import nms_torch
from facedet.ops.roi_align import roi_align
from facedet.samplers.group import GROUP_SCALES, GroupSampler, group_sum, reference_scale
from facedet.samplers.random import Sampler
from facedet.samplers.stream import SampleStream

from .decode import ScoredBoxes, decode_outputs


class GroupedFastRCNN(nn.Module):
    """``forward(feature (B, C, H, W), rois (K, 5)) -> (cls logits (K, 2), deltas (K, 4))``; deltas are
    relative to the roi, coded by ``coder`` (no variances, clamped as Detectron)."""

    coder = DeltaCoder(VARIANCE_FREE, DETECTRON_MAX_LOG_WH)

    def __init__(self, in_channels: int = 256, feature_stride: int = 4, pool_size: int = 7, fc_channels: int = 1024,
                 sampling_ratio: int = 2, aligned: bool = True) -> None:
        super().__init__()
        self.feature_stride, self.pool_size = feature_stride, pool_size
        self.sampling_ratio, self.aligned = sampling_ratio, aligned
        self.fc1 = nn.Linear(in_channels * pool_size * pool_size, fc_channels)
        self.fc2 = nn.Linear(fc_channels, fc_channels)
        self.relu = nn.ReLU(inplace=True)
        self.cls = nn.Linear(fc_channels, 2)
        self.reg = nn.Linear(fc_channels, 4)
        for fc in (self.fc1, self.fc2):
            nn.init.kaiming_uniform_(fc.weight, a=1)
            nn.init.zeros_(fc.bias)
        nn.init.normal_(self.cls.weight, std=0.01)
        nn.init.normal_(self.reg.weight, std=0.001)
        nn.init.zeros_(self.cls.bias)
        nn.init.zeros_(self.reg.bias)

    def forward(self, feature: torch.Tensor, rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = roi_align(feature, rois, self.pool_size, 1.0 / self.feature_stride, self.sampling_ratio, self.aligned)
        x = self.relu(self.fc2(self.relu(self.fc1(x.flatten(1)))))
        return self.cls(x), self.reg(x)


@torch.no_grad()
def proposals(outputs: HeadOutputs, model: nn.Module, pre_nms_topk: int = 12_000, nms_thr: float = 0.7,
              post_nms_topk: int = 2_000, score_thr: float = 0.0) -> list[ScoredBoxes]:
    """First-stage proposals per image: decode, top-k, NMS, keep ``post_nms_topk`` (best first)."""
    out = []
    for sb in decode_outputs(outputs, model, score_thr, pre_nms_topk):
        keep = nms_torch(sb.boxes, sb.scores, nms_thr)[:post_nms_topk]
        out.append(sb.take(keep))
    return out


def rois_of(boxes: Sequence[torch.Tensor]) -> torch.Tensor:
    """``(K, 5)`` rois ``[image index, x1, y1, x2, y2]`` from per-image boxes."""
    return torch.cat([torch.cat([torch.full((len(b), 1), float(i), device=b.device), b], 1)
                      for i, b in enumerate(boxes)])


class GroupedFastRCNNCriterion(nn.Module):
    """Second-stage loss: ``forward(head, feature, proposals, targets) -> {"loss", "loss_cls", "loss_reg"}``."""

    def __init__(self, assigner: TwoPassAssigner | None = None, sampler: Sampler | None = None,
                 group_scales: Sequence[float] = GROUP_SCALES, reg_weight: float = 1.0, add_gt: bool = True,
                 seed: int = 0) -> None:
        super().__init__()
        self.assigner = assigner or TwoPassAssigner(0.6, 0.5)
        self.sampler: Sampler = sampler or GroupSampler(num=128)
        self.group_scales = tuple(float(s) for s in group_scales)
        self.reg_weight, self.add_gt, self.seed = reg_weight, add_gt, seed
        self.stream = SampleStream(seed)

    def rng_state(self) -> torch.Tensor | None:
        return self.stream.state()

    def set_rng_state(self, state: torch.Tensor | None) -> None:
        self.stream.set_state(state)

    def sample(self, props: Sequence[torch.Tensor], targets: Sequence[dict[str, torch.Tensor]]
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sampled ``rois (K, 5)``, ``labels (K,)`` 1/0, matched gt ``(K, 4)`` and reference-scale group ``(K,)``."""
        rois, labels, gts, groups = [], [], [], []
        for b, (p, tgt) in enumerate(zip(props, targets, strict=True)):
            gt = tgt["boxes"].to(device=p.device, dtype=torch.float32).reshape(-1, 4)
            boxes = torch.cat([p.detach().float(), gt]) if self.add_gt else p.detach().float()
            res = self.assigner(boxes, gt, tgt.get("ignore"))
            grp = reference_scale(boxes, self.group_scales)
            loss = None
            if self.sampler.needs_loss:
                raise ValueError("the second-stage criterion samples before the head runs: use a loss-free sampler")
            pos, neg = self.sampler.sample(res.labels, generator=self.stream.on(p.device), loss=loss, groups=grp)
            idx = torch.cat([pos, neg])
            rois.append(torch.cat([torch.full((len(idx), 1), float(b), device=p.device), boxes[idx]], 1))
            labels.append(torch.cat([torch.ones_like(pos), torch.zeros_like(neg)]))
            gts.append(gt[res.gt_index[idx].clamp(min=0)] if len(gt) else boxes[idx])
            groups.append(grp[idx])
        return torch.cat(rois), torch.cat(labels), torch.cat(gts), torch.cat(groups)

    def forward(self, head: GroupedFastRCNN, feature: torch.Tensor, props: Sequence[torch.Tensor],
                targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        rois, labels, gts, groups = self.sample(props, targets)
        cls, deltas = head(feature, rois)
        grouped = self.sampler.grouped
        n = len(self.group_scales) if grouped else 1
        g = groups if grouped else torch.zeros_like(groups)
        ce = F.cross_entropy(cls.float(), labels, reduction="none")
        loss_cls = (group_sum(ce, g, n) / group_sum(torch.ones_like(ce), g, n).clamp(min=1.0)).sum()
        pos = labels == 1
        pred = head.coder.decode(deltas[pos].float(), rois[pos, 1:])
        lr = ls_iou_loss(pred, gts[pos])
        loss_reg = (group_sum(lr, g[pos], n) / group_sum(torch.ones_like(lr), g[pos], n).clamp(min=1.0)).sum()
        return {"loss": loss_cls + self.reg_weight * loss_reg, "loss_cls": loss_cls.detach(),
                "loss_reg": loss_reg.detach()}


@torch.no_grad()
def refine(head: GroupedFastRCNN, feature: torch.Tensor, props: Sequence[ScoredBoxes]) -> list[ScoredBoxes]:
    """Second-stage boxes; score = mean of first- and second-stage face probabilities; groups kept."""
    if not any(len(p.boxes) for p in props):
        return list(props)
    rois = rois_of([p.boxes for p in props])
    cls, deltas = head(feature, rois)
    prob = cls.float().softmax(-1)[:, 1]
    boxes = head.coder.decode(deltas.float(), rois[:, 1:])
    out, start = [], 0
    for p in props:
        end = start + len(p.boxes)
        out.append(ScoredBoxes(boxes[start:end], (p.scores + prob[start:end]) / 2, p.groups))
        start = end
    return out


class TwoStageCriterion(nn.Module):
    """First-stage loss (anchors) + grouped Fast R-CNN loss on the first stage's proposals.

    ``forward(outputs, targets)``: ``outputs`` of a detector built with ``second_stage=True`` (its
    ``features`` set). Proposals are taken from the detached first-stage outputs (approximate joint
    training, as Faster R-CNN's end-to-end recipe); ground truths join them in the second stage.
    """

    def __init__(self, model: nn.Module, first: SampledCriterion, second: GroupedFastRCNNCriterion | None = None,
                 pre_nms_topk: int = 12_000, nms_thr: float = 0.7, post_nms_topk: int = 2_000) -> None:
        super().__init__()
        if getattr(model, "rcnn", None) is None:
            raise ValueError("TwoStageCriterion needs a detector built with second_stage=True")
        self.model = [model]  # a list: not registered as a sub-module (the trainer owns the model)
        self.first: SampledCriterion = first
        self.second = second or GroupedFastRCNNCriterion()
        self.pre_nms_topk, self.nms_thr, self.post_nms_topk = pre_nms_topk, nms_thr, post_nms_topk

    def rng_state(self) -> dict[str, torch.Tensor | None]:
        return {"first": self.first.rng_state(), "second": self.second.rng_state()}

    def set_rng_state(self, state: dict[str, torch.Tensor | None]) -> None:
        self.first.set_rng_state(state.get("first"))
        self.second.set_rng_state(state.get("second"))

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        model = self.model[0]
        if outputs.features is None:
            raise ValueError("the detector's outputs carry no features: build it with second_stage=True")
        l1 = self.first(outputs, targets)
        props = proposals(outputs, model, self.pre_nms_topk, self.nms_thr, self.post_nms_topk)
        l2 = self.second(model.rcnn, outputs.features[0], [p.boxes for p in props], targets)
        out = {"loss": l1["loss"] + l2["loss"], "loss_cls": l1["loss_cls"], "loss_reg": l1["loss_reg"],
               "loss_rcnn_cls": l2["loss_cls"], "loss_rcnn_reg": l2["loss_reg"]}
        return out
