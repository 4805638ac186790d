"""Weighted random sampling (paper eq. 3): hard examples drawn with probability growing with their loss.

Each candidate gets ``w_i = r_i^(1/(l_i + eps))``, ``r_i ~ U(0, 1)``, and the K largest ``w_i`` are
kept (Efraimidis-Spirakis: sampling without replacement with probability proportional to
``l_i + eps``). We rank by ``log(r_i) / (l_i + eps)``, the log of ``w_i`` (same order, no underflow
when the loss is small). ``eps = 1e-6`` as the paper. Unlike OHEM, easy examples still get picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .random import quotas, top_keys


def wrs_keys(loss: torch.Tensor, generator: torch.Generator | None = None, eps: float = 1e-6) -> torch.Tensor:
    """``log(w_i) = log(r_i) / (l_i + eps)`` per candidate (larger = more likely kept)."""
    r = torch.rand(loss.shape[0], generator=generator, device=loss.device, dtype=torch.float64)
    r = r.clamp(min=torch.finfo(torch.float64).tiny)
    return torch.log(r) / (loss.detach().double().clamp(min=0) + eps)


def select_weighted(mask: torch.Tensor, k: int, loss: torch.Tensor, generator: torch.Generator | None = None,
                    eps: float = 1e-6) -> torch.Tensor:
    """``min(k, mask.sum())`` indices among ``mask`` drawn by WRS on ``loss``, ascending."""
    return top_keys(wrs_keys(loss, generator, eps), mask, k)


@dataclass(frozen=True)
class WRSSampler:
    """Plain WRS ("+WRS" of Table 9): ``num`` anchors per image, 1:3, positives and negatives drawn separately."""

    num: int = 256
    pos_fraction: float = 0.25
    fill_negatives: bool = True
    eps: float = 1e-6
    grouped: bool = False
    needs_loss: bool = True

    def sample(self, labels: torch.Tensor, *, generator: torch.Generator | None = None,
               loss: torch.Tensor | None = None,
               groups: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if loss is None:
            raise ValueError("WRSSampler needs the per-anchor classification loss")
        pos, neg = labels == 1, labels == 0
        n_pos, n_neg = quotas(int(pos.sum()), self.num, self.pos_fraction, self.fill_negatives)
        return (select_weighted(pos, n_pos, loss, generator, self.eps),
                select_weighted(neg, n_neg, loss, generator, self.eps))
