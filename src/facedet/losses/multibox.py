"""SSD MultiBox loss: softmax cross-entropy over positives + mined negatives, Smooth-L1 over positives.

``loss_cls = sum CE(pos u neg) / N``, ``loss_box = box_weight * sum SmoothL1(pos) / N`` with ``N`` the
number of positives in the batch (the reference falls back to the batch size when there are none).
Smooth-L1 uses beta 1 (PyTorch default, as the reference ``F.smooth_l1_loss``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def background_loss(cls_logits: torch.Tensor) -> torch.Tensor:
    """Per-anchor CE against the background class (column 0): ``logsumexp(x) - x_0``, shape ``(B, A)``."""
    return torch.logsumexp(cls_logits, dim=-1) - cls_logits[..., 0]


def multibox_loss(
    cls_logits: torch.Tensor,
    reg: torch.Tensor,
    labels: torch.Tensor,
    reg_targets: torch.Tensor,
    pos: torch.Tensor,
    neg: torch.Tensor,
    normalizer: float | torch.Tensor,
    box_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss_cls, loss_box)`` for ``(B, A, C)`` logits, ``(B, A, 4)`` offsets and targets,
    ``labels (B, A)`` class ids, ``pos`` / ``neg`` bool masks ``(B, A)``."""
    keep = pos | neg
    loss_cls = F.cross_entropy(cls_logits[keep].float(), labels[keep].clamp(min=0), reduction="sum")
    loss_box = F.smooth_l1_loss(reg[pos].float(), reg_targets[pos].float(), reduction="sum")
    return loss_cls / normalizer, box_weight * loss_box / normalizer
