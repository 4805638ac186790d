"""Random 1:3 anchor sampling (Faster R-CNN's RPN sampler) and the sampler protocol every sampler follows.

Protocol (per image, vectorised)::

    sampler.sample(labels, *, generator, loss=None, groups=None) -> (pos_idx, neg_idx)

``labels (N,)`` long: 1 positive, 0 negative, -1 ignore. ``loss (N,)``: detached per-anchor
classification loss (needed by the hard-example samplers, ignored by the others). ``groups (N,)``
long: scale-group id per anchor (needed by the group sampler). ``generator``: a ``torch.Generator``
on the labels' device, so every random choice is reproducible. Attribute ``grouped`` tells the
criterion to normalise the loss per group (paper eq. 2) rather than over the whole sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


class Sampler(Protocol):
    """What a criterion needs from a sampler (read-only members, so frozen dataclasses conform)."""

    @property
    def grouped(self) -> bool: ...

    @property
    def needs_loss(self) -> bool: ...

    def sample(
        self,
        labels: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        loss: torch.Tensor | None = None,
        groups: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def select_random(mask: torch.Tensor, k: int | torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """``min(k, mask.sum())`` indices drawn uniformly without replacement among ``mask``, ascending."""
    keys = torch.rand(mask.shape[0], generator=generator, device=mask.device)
    return top_keys(torch.where(mask, keys, torch.full_like(keys, -torch.inf)), mask, k)


def top_keys(keys: torch.Tensor, mask: torch.Tensor, k: int | torch.Tensor) -> torch.Tensor:
    """Indices of the ``min(k, mask.sum())`` largest ``keys`` among ``mask`` (ties: lowest index), ascending."""
    k = int(min(int(k), int(mask.sum())))
    if k <= 0:
        return torch.zeros(0, dtype=torch.long, device=mask.device)
    keys = torch.where(mask, keys, torch.full_like(keys, -torch.inf))
    order = torch.sort(keys, descending=True, stable=True).indices[:k]
    return torch.sort(order).values


def quotas(num_pos_avail: int, num: int, pos_fraction: float, fill_negatives: bool) -> tuple[int, int]:
    """``(n_pos, n_neg)``: ``n_pos = min(#pos, num * pos_fraction)``; negatives fill up to ``num`` or keep 1:3."""
    n_pos = min(num_pos_avail, int(num * pos_fraction))
    if fill_negatives:
        return n_pos, num - n_pos
    ratio = (1 - pos_fraction) / pos_fraction
    return n_pos, int(round(n_pos * ratio))


@dataclass(frozen=True)
class RandomSampler:
    """``num`` anchors per image, at most ``pos_fraction`` positive; negatives fill a positive shortage."""

    num: int = 256
    pos_fraction: float = 0.25
    fill_negatives: bool = True
    grouped: bool = False
    needs_loss: bool = False

    def sample(self, labels: torch.Tensor, *, generator: torch.Generator | None = None,
               loss: torch.Tensor | None = None,
               groups: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        pos, neg = labels == 1, labels == 0
        n_pos, n_neg = quotas(int(pos.sum()), self.num, self.pos_fraction, self.fill_negatives)
        return select_random(pos, n_pos, generator), select_random(neg, n_neg, generator)


@dataclass(frozen=True)
class AllSampler:
    """Every non-ignored anchor (no sampling): the setting of the plain focal-loss baseline."""

    grouped: bool = False
    needs_loss: bool = False

    def sample(self, labels: torch.Tensor, *, generator: torch.Generator | None = None,
               loss: torch.Tensor | None = None,
               groups: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.nonzero(labels == 1).squeeze(1), torch.nonzero(labels == 0).squeeze(1)
