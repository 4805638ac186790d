"""Group sampling (paper §4.2, spec §5.3): the same number of samples for every anchor-scale group.

Anchors are split by scale group (anchor size 16 / 32 / 64 / 128, or a proposal's reference scale
for the second stage). In each group we take ``n_pos = min(#pos_g, num * pos_fraction)`` positives
and ``num - n_pos`` negatives (1:3 when positives suffice; negatives fill a positive shortage so
every group contributes ``num`` samples when it has enough anchors). ``mode`` picks how the
samples are drawn inside a group: ``"random"`` (GS), ``"wrs"`` (GS+WRS), ``"ohem"`` (GS+OHEM).
``num`` is per group and per image (our choice: the paper trained with one image per GPU).
Loops run over the few groups only; everything inside is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .ohem import select_hardest
from .random import quotas, select_random
from .wrs import select_weighted

MODES = ("random", "wrs", "ohem")
GROUP_SCALES = (16.0, 32.0, 64.0, 128.0)


def scale_index(sizes: torch.Tensor, scales: Sequence[float] = GROUP_SCALES) -> torch.Tensor:
    """Index of the scale nearest to each size in log2 (ties -> the smaller scale)."""
    s = torch.as_tensor(scales, dtype=torch.float32, device=sizes.device)
    return (torch.log2(sizes.float().clamp(min=1e-6))[:, None] - torch.log2(s)[None, :]).abs().argmin(dim=1)


def reference_scale(boxes: torch.Tensor, scales: Sequence[float] = GROUP_SCALES) -> torch.Tensor:
    """Paper eq. (4): index of ``argmin_s |log2(sqrt(w h) / s)|`` per xyxy box (ties -> smaller scale)."""
    wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1e-6)
    return scale_index(torch.sqrt(wh[:, 0] * wh[:, 1]), scales)


def group_sum(values: torch.Tensor, groups: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Per-group sums ``(num_groups,)`` of ``values`` (vectorised ``index_add``)."""
    return torch.zeros(num_groups, dtype=values.dtype, device=values.device).index_add(0, groups, values)


@dataclass(frozen=True)
class GroupSampler:
    """``sample(labels, generator=, loss=, groups=) -> (pos_idx, neg_idx)``; groups are ``0..num_groups-1``."""

    num: int = 2048
    pos_fraction: float = 0.25
    mode: str = "random"
    num_groups: int = 4
    fill_negatives: bool = True
    eps: float = 1e-6
    grouped: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown group sampling mode {self.mode!r}; choose one of {MODES}")

    @property
    def needs_loss(self) -> bool:
        return self.mode != "random"

    def _select(self, mask: torch.Tensor, k: int, loss: torch.Tensor | None,
                generator: torch.Generator | None) -> torch.Tensor:
        if self.mode == "random":
            return select_random(mask, k, generator)
        if loss is None:
            raise ValueError(f"group sampling mode {self.mode!r} needs the per-anchor classification loss")
        if self.mode == "wrs":
            return select_weighted(mask, k, loss, generator, self.eps)
        return select_hardest(mask, k, loss)

    def sample(self, labels: torch.Tensor, *, generator: torch.Generator | None = None,
               loss: torch.Tensor | None = None,
               groups: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if groups is None:
            raise ValueError("GroupSampler needs the scale group of every anchor")
        if groups.shape != labels.shape:
            raise ValueError(f"groups {tuple(groups.shape)} and labels {tuple(labels.shape)} differ in shape")
        pos_all, neg_all = labels == 1, labels == 0
        pos_out, neg_out = [], []
        for g in range(self.num_groups):
            in_g = groups == g
            pos, neg = pos_all & in_g, neg_all & in_g
            n_pos, n_neg = quotas(int(pos.sum()), self.num, self.pos_fraction, self.fill_negatives)
            pos_out.append(self._select(pos, n_pos, loss, generator))
            neg_out.append(self._select(neg, n_neg, loss, generator))
        return torch.cat(pos_out), torch.cat(neg_out)
