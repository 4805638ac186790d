"""Focal losses: sigmoid (RetinaNet / SRN / AInnoFace), softmax, and the Focal* variant (Group
Sampling §6.2, Table 9).

Sigmoid form (Lin et al. 2017), per logit ``z`` with target ``y`` in {0, 1} and ``p = sigmoid(z)``:
``FL = -alpha_t (1 - p_t)^gamma log p_t`` with ``p_t = p`` and ``alpha_t = alpha`` for faces,
``1 - p`` and ``1 - alpha`` for background (alpha 0.25, gamma 2); the caller sums and divides by
the number of positives.

For 2-class softmax logits and labels (1 face, 0 background), with ``p_t`` the probability of the
true class, the focal weight is ``w = alpha_t (1 - p_t)^gamma`` (``alpha_t = alpha`` for faces,
``1 - alpha`` for background; alpha = 0.25, gamma = 2) and the per-row loss ``w * CE``.
Focal* divides the summed loss by the sum of the weights (detached) instead of by the number of
positives, which the paper found did not converge in its setting.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sigmoid_focal_loss(logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25,
                       gamma: float = 2.0) -> torch.Tensor:
    """Element-wise sigmoid focal loss of ``logits`` against 0/1 ``targets`` (same shape, no reduction);
    ``alpha < 0`` turns the class balance off. Computed from ``binary_cross_entropy_with_logits`` (stable
    for large logits)."""
    z, y = logits.float(), targets.to(torch.float32)
    ce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    p = torch.sigmoid(z)
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t).pow(gamma)
    if alpha >= 0:
        loss = loss * (alpha * y + (1 - alpha) * (1 - y))
    return loss


def focal_weights(logits: torch.Tensor, labels: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """``alpha_t (1 - p_t)^gamma`` per row (detached), ``logits (N, C)``, ``labels (N,)`` in ``0..C-1``."""
    with torch.no_grad():
        p_t = logits.float().softmax(-1).gather(1, labels.long()[:, None]).squeeze(1)
        alpha_t = torch.where(labels > 0, torch.full_like(p_t, alpha), torch.full_like(p_t, 1 - alpha))
        return alpha_t * (1 - p_t).pow(gamma)


def softmax_focal_loss(logits: torch.Tensor, labels: torch.Tensor, alpha: float = 0.25,
                       gamma: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row ``(focal loss, focal weight)``; the weight is detached, the loss keeps its gradient."""
    ce = F.cross_entropy(logits.float(), labels.long(), reduction="none")
    p_t = torch.exp(-ce)
    alpha_t = torch.where(labels > 0, torch.full_like(ce, alpha), torch.full_like(ce, 1 - alpha))
    loss = alpha_t * (1 - p_t).pow(gamma) * ce
    return loss, focal_weights(logits, labels, alpha, gamma)


def focal_star_loss(logits: torch.Tensor, labels: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0,
                    eps: float = 1e-6) -> torch.Tensor:
    """Focal*: ``sum(w * CE) / sum(w)`` over the rows given (scalar; 0 for no rows)."""
    if logits.shape[0] == 0:
        return logits.sum() * 0.0
    loss, w = softmax_focal_loss(logits, labels, alpha, gamma)
    return loss.sum() / w.sum().clamp(min=eps)
