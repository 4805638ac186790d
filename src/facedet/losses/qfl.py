"""Quality focal loss (GFL, Li et al. 2020), the SCRFD classification loss.

Written on dense soft targets: ``target`` holds the IoU quality of positives in their class
column and 0 everywhere else, so one expression covers both branches of the GFL definition
(negatives: ``BCE(x, 0) * sigmoid(x)^beta``; positives: ``BCE(x, q) * |q - sigmoid(x)|^beta``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def quality_focal_loss(logits: torch.Tensor, target: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """Element-wise QFL (no reduction); ``logits`` and ``target`` share a shape, target in [0, 1]."""
    if logits.shape != target.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and target {tuple(target.shape)} differ in shape")
    target = target.to(logits.dtype)
    scale = (target - logits.sigmoid()).abs().pow(beta)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none") * scale
