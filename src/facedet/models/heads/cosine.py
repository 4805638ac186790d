"""Large-margin cosine classifier head (CosFace, Wang et al. 2018; ASFD's DRMC classification part).

``logits_j = s * cos(theta_j) = s * <x / |x|, W_j / |W_j|>`` per location and anchor: a 1x1 convolution
whose input and weights are L2-normalised. The margin ``m`` on the true class is a *training* term and
lives in the criterion (``MultiBoxCriterion(margin=s * m)``); at test time the logits are plain ``s cos``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CosineClassifier(nn.Module):
    """``(B, C, H, W) -> (B, A * K, H, W)`` logits ``s cos theta`` for ``A`` anchors x ``K`` classes."""

    def __init__(self, in_channels: int, num_outputs: int, scale: float = 16.0, eps: float = 1e-6) -> None:
        super().__init__()
        if scale <= 0:
            raise ValueError(f"cosine scale must be positive, got {scale}")
        self.weight = nn.Parameter(torch.empty(num_outputs, in_channels, 1, 1))
        nn.init.normal_(self.weight, std=0.01)
        self.scale, self.eps = float(scale), eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.normalize(x, dim=1, eps=self.eps)
        w = F.normalize(self.weight, dim=1, eps=self.eps)
        return self.scale * F.conv2d(x, w)
