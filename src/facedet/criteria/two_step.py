"""SRN / AInnoFace two-step criterion (spec families.md §4.3–4.4; ARCHITECTURE.md §3.6).

    L = 1/N1 Σ_{Ω} FL(p, y¹) + 1/N2 Σ_{Φ} FL(q, y²) + λ/N1 Σ_{Ψ, y¹=1} L_box(x) + λ/N2 Σ_{Φ, y²=1} L_box(t)

- Step 1 (``outputs.aux``) matches the anchors with IoU ≥ 0.7 positive, < 0.3 negative (between:
  ignored). Its classification trains on the STC levels (Ω, P2–P4), its regression on the STR levels
  (Ψ, P5–P7). N1 = step-1 positives over all levels.
- Step 2 (``outputs``) matches the *refined* anchors (STR levels: the anchors moved by the first-step
  deltas; elsewhere the anchors themselves) with 0.5 / 0.4, and encodes / decodes its regression on
  them. Φ: every non-ignored anchor except, on the STC levels, those whose first-step background
  probability exceeds θ = 0.99 (:func:`facedet.samplers.stc.stc_keep`). N2 = positives in Φ.
- FL: sigmoid focal loss (α 0.25, γ 2); L_box: ``-ln IoU`` of the decoded box with its face (UnitBox,
  AInnoFace), λ = 1.

Choices [ours], each a setting: the refined anchors are detached (the second step does not push
gradients into the first step's deltas, as a cascade's proposals); the STC filter drops anchors
regardless of their label (SRN: "filter out" before the second step); normalisers are clamped at 1
and averaged over processes under DDP; ignore regions (WIDER "invalid" faces) are off by default
(``ignore_iof_thr=-1``), as the other anchor families.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..assigners.base import covered
from ..assigners.threshold import ThresholdMatcher
from ..coders import DeltaCoder
from ..distributed import reduce_mean
from ..losses.focal import sigmoid_focal_loss
from ..losses.iou import box_loss
from ..losses.ls_iou import log_iou_loss
from ..models.detector import as_detector
from ..models.outputs import HeadOutputs
from ..ops.boxes import box_iou
from ..priors import AnchorGrid
from ..samplers.stc import STC_THETA, stc_keep

BOX_LOSSES = ("log_iou", "iou", "giou", "diou")


class TwoStepCriterion(nn.Module):
    """``forward(outputs, targets) -> {"loss", "loss_cls1", "loss_box1", "loss_cls2", "loss_box2"}``.

    ``targets``: one dict per image with ``boxes (G, 4)`` xyxy in network-input pixels and optionally
    ``ignore (M, 4)``. ``stc_levels`` / ``str_levels``: level indices (0 = finest).
    """

    def __init__(
        self,
        anchors: AnchorGrid,
        coder: DeltaCoder,
        stc_levels: Sequence[int] = (0, 1, 2),
        str_levels: Sequence[int] = (3, 4, 5),
        first: ThresholdMatcher | None = None,
        second: ThresholdMatcher | None = None,
        alpha: float = 0.25,
        gamma: float = 2.0,
        box_weight: float = 1.0,
        theta: float = STC_THETA,
        reg_loss: str = "log_iou",
        ignore_iof_thr: float = -1.0,
        detach_refined: bool = True,
    ) -> None:
        super().__init__()
        if reg_loss not in BOX_LOSSES:
            raise ValueError(f"unknown box loss {reg_loss!r}; choose one of {BOX_LOSSES}")
        self.anchors, self.coder = anchors, coder
        self.stc_levels, self.str_levels = tuple(stc_levels), tuple(str_levels)
        self.first = first or ThresholdMatcher([0.3, 0.7], [0, -1, 1])
        self.second = second or ThresholdMatcher([0.4, 0.5], [0, -1, 1])
        self.alpha, self.gamma, self.box_weight, self.theta = alpha, gamma, box_weight, theta
        self.box_loss = log_iou_loss if reg_loss == "log_iou" else box_loss(reg_loss)
        self.ignore_iof_thr, self.detach_refined = ignore_iof_thr, detach_refined

    @classmethod
    def from_model(cls, model: nn.Module, **kwargs: object) -> TwoStepCriterion:
        """Anchors, coder and STC / STR levels read from the model; other settings from ``kwargs``."""
        det = as_detector(model)
        if not isinstance(det.coder, DeltaCoder):
            raise ValueError(f"TwoStepCriterion encodes deltas; {type(model).__name__} has a "
                             f"{type(det.coder).__name__}")
        opts: dict[str, object] = {"stc_levels": getattr(model, "stc_levels", (0, 1, 2)),
                                   "str_levels": getattr(model, "str_levels", (3, 4, 5))}
        opts.update(kwargs)
        return cls(det.anchors, det.coder, **opts)  # type: ignore[arg-type]

    def level_masks(self, feat_sizes: Sequence[tuple[int, int]], device: torch.device
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(on_stc, on_str)``: ``(A,)`` bool masks of the anchors on the STC and STR levels."""
        level = self.anchors.level_index(feat_sizes, device)
        return (torch.isin(level, torch.tensor(self.stc_levels, device=device, dtype=level.dtype)),
                torch.isin(level, torch.tensor(self.str_levels, device=device, dtype=level.dtype)))

    def refine(self, reg1: torch.Tensor, anchors: torch.Tensor, on_str: torch.Tensor) -> torch.Tensor:
        """The second step's anchors ``(B, A, 4)``: first-step boxes on the STR levels, anchors elsewhere."""
        deltas = reg1.detach() if self.detach_refined else reg1
        moved = self.coder.decode(deltas.float(), anchors[None].expand_as(deltas))
        return torch.where(on_str[None, :, None], moved, anchors[None])

    @torch.no_grad()
    def assign(self, anchors: torch.Tensor, refined: torch.Tensor, targets: Sequence[dict[str, torch.Tensor]]
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``labels1, gt1, labels2, gt2``: per step ``(B, A)`` labels (1 / 0 / -1) and ``(B, A, 4)`` matched faces."""
        l1: list[torch.Tensor] = []
        g1: list[torch.Tensor] = []
        l2: list[torch.Tensor] = []
        g2: list[torch.Tensor] = []
        for b, t in enumerate(targets):
            gt = t["boxes"].to(anchors.device, torch.float32).reshape(-1, 4)
            ign = t.get("ignore")
            r = refined[b]
            a1 = self.first(anchors, gt).with_ignored(covered(anchors, ign, self.ignore_iof_thr))
            q2 = box_iou(gt, r) if gt.numel() else torch.zeros((0, r.shape[0]), device=r.device)
            a2 = self.second.match(q2).with_ignored(covered(r, ign, self.ignore_iof_thr))
            for a, labels, gts in ((a1, l1, g1), (a2, l2, g2)):
                labels.append(a.labels)
                gts.append(gt[a.gt_index.clamp(min=0)] if gt.numel() else torch.zeros_like(anchors))
        return torch.stack(l1), torch.stack(g1), torch.stack(l2), torch.stack(g2)

    def _box_term(self, deltas: torch.Tensor, priors: torch.Tensor, gt: torch.Tensor, pos: torch.Tensor
                  ) -> torch.Tensor:
        if not bool(pos.any()):
            return deltas.sum() * 0.0
        return self.box_loss(self.coder.decode(deltas[pos].float(), priors[pos]), gt[pos]).sum()

    def forward(self, outputs: HeadOutputs, targets: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        if outputs.aux is None:
            raise ValueError("TwoStepCriterion: the outputs carry no first step (HeadOutputs.aux)")
        step1 = outputs.aux
        cls1 = torch.cat(step1.cls, dim=1)[..., 0]
        reg1 = torch.cat(step1.reg, dim=1)
        cls2 = torch.cat(outputs.cls, dim=1)[..., 0]
        reg2 = torch.cat(outputs.reg, dim=1)
        device = reg2.device
        anchors = self.anchors.boxes(outputs.feat_sizes, device)
        on_stc, on_str = self.level_masks(outputs.feat_sizes, device)
        refined = self.refine(reg1, anchors, on_str)
        labels1, gt1, labels2, gt2 = self.assign(anchors, refined, targets)

        pos1 = labels1 == 1
        n1 = reduce_mean(pos1.sum().float()).clamp(min=1.0)
        cls_rows1 = (labels1 >= 0) & on_stc[None]
        loss_cls1 = sigmoid_focal_loss(cls1[cls_rows1], pos1[cls_rows1], self.alpha, self.gamma).sum() / n1
        loss_box1 = self._box_term(reg1, anchors[None].expand_as(reg1), gt1, pos1 & on_str[None]) / n1

        kept = stc_keep(cls1, on_stc[None], self.theta)
        pos2 = (labels2 == 1) & kept
        n2 = reduce_mean(pos2.sum().float()).clamp(min=1.0)
        cls_rows2 = (labels2 >= 0) & kept
        loss_cls2 = sigmoid_focal_loss(cls2[cls_rows2], pos2[cls_rows2], self.alpha, self.gamma).sum() / n2
        loss_box2 = self._box_term(reg2, refined, gt2, pos2) / n2

        loss = loss_cls1 + loss_cls2 + self.box_weight * (loss_box1 + loss_box2)
        return {"loss": loss, "loss_cls1": loss_cls1.detach(), "loss_box1": loss_box1.detach(),
                "loss_cls2": loss_cls2.detach(), "loss_box2": loss_box2.detach()}
