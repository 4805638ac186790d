"""SSD hard-negative mining: per image keep the ``ratio x #positives`` highest-loss negatives.

As ``layers/modules/multibox_loss.py`` of S3FD.pytorch / EXTD / DSFD: positives' losses are
zeroed, anchors ranked by loss (descending), and the first ``min(ratio * num_pos, A - 1)`` taken
(spec §0.3). An image without positives gets no negatives (reference behaviour; ``min_neg`` lets
face-less images still contribute). Anchors marked invalid (ignore regions) are never mined.
Ties are broken by a stable sort, i.e. by anchor order.
"""

from __future__ import annotations

import torch


def hard_negative_mask(
    neg_loss: torch.Tensor,
    pos: torch.Tensor,
    ratio: float = 3.0,
    valid: torch.Tensor | None = None,
    min_neg: int = 0,
) -> torch.Tensor:
    """Boolean ``(B, A)`` mask of mined negatives.

    ``neg_loss (B, A)``: per-anchor background loss (e.g. CE against class 0), ``pos (B, A)`` bool.
    ``valid`` (optional bool ``(B, A)``): anchors allowed to be negatives.
    """
    loss = neg_loss.detach().clone()
    candidates = ~pos if valid is None else (~pos & valid)
    loss[~candidates] = -torch.inf
    num_pos = pos.long().sum(dim=1, keepdim=True)
    num_neg = (num_pos.float() * ratio).long().clamp(max=pos.shape[1] - 1)
    if min_neg > 0:
        num_neg = num_neg.clamp(min=min_neg)
    order = torch.sort(loss, dim=1, descending=True, stable=True).indices
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(order.shape[1], device=order.device).expand_as(order))
    return (rank < num_neg) & candidates
