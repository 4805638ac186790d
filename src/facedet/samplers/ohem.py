"""Online hard example mining (Shrivastava et al. 2016) as the Group Sampling paper compares it (Table 9).

Plain OHEM keeps the ``num`` (B = 1024 in the paper) anchors with the highest classification loss,
positives and negatives together. ``pos_fraction`` set instead keeps the top-loss positives and
negatives separately with the 1:3 quotas (the "GS + OHEM" per-group form uses :func:`select_hardest`).
We do not run NMS over the candidates (the original does; the paper points out its cost on 160k
anchors): documented choice. Ties -> lowest index.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .random import quotas, top_keys


def select_hardest(mask: torch.Tensor, k: int, loss: torch.Tensor) -> torch.Tensor:
    """The ``min(k, mask.sum())`` highest-``loss`` indices among ``mask``, ascending."""
    return top_keys(loss.detach().float(), mask, k)


@dataclass(frozen=True)
class OHEMSampler:
    """Top-``num`` loss per image over non-ignored anchors; with ``pos_fraction`` per polarity (1:3)."""

    num: int = 1024
    pos_fraction: float | None = None
    fill_negatives: bool = True
    grouped: bool = False
    needs_loss: bool = True

    def sample(self, labels: torch.Tensor, *, generator: torch.Generator | None = None,
               loss: torch.Tensor | None = None,
               groups: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if loss is None:
            raise ValueError("OHEMSampler needs the per-anchor classification loss")
        pos, neg = labels == 1, labels == 0
        if self.pos_fraction is None:
            kept = select_hardest(pos | neg, self.num, loss)
            return kept[pos[kept]], kept[neg[kept]]
        n_pos, n_neg = quotas(int(pos.sum()), self.num, self.pos_fraction, self.fill_negatives)
        return select_hardest(pos, n_pos, loss), select_hardest(neg, n_neg, loss)
