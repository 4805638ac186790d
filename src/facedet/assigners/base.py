"""The one result every assigner returns, and the ignore step that applies to any of them.

``labels``: 1 face, 0 background, -1 ignored (neither trained as face nor as background);
``gt_index``: the matched ground truth of every anchor (-1 where there is none; background anchors
keep their best face, as SSD coders encode every row); ``quality``: the IoU with that face (2.0 for
anchors forced onto a face by best-anchor matching).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import torch

from ..ops.boxes import max_iof


@dataclass(frozen=True)
class Assignment:
    """Per-anchor assignment ``(A,)`` tensors; see the module docstring."""

    labels: torch.Tensor
    gt_index: torch.Tensor
    quality: torch.Tensor

    @property
    def pos(self) -> torch.Tensor:
        return self.labels == 1

    @property
    def neg(self) -> torch.Tensor:
        return self.labels == 0

    @classmethod
    def background(cls, num_anchors: int, device: torch.device, dtype: torch.dtype = torch.float32) -> Assignment:
        """Every anchor background (an image without faces)."""
        return cls(torch.zeros(num_anchors, dtype=torch.long, device=device),
                   torch.full((num_anchors,), -1, dtype=torch.long, device=device),
                   torch.zeros(num_anchors, dtype=dtype, device=device))

    def with_ignored(self, mask: torch.Tensor) -> Assignment:
        """Anchors in ``mask`` that are not positive become -1."""
        labels = torch.where(mask & (self.labels != 1), torch.full_like(self.labels, -1), self.labels)
        return replace(self, labels=labels)


def covered(anchors: torch.Tensor, regions: torch.Tensor | None, iof_thr: float, inclusive: bool = False
            ) -> torch.Tensor:
    """Anchors whose intersection with some region covers more than ``iof_thr`` of the anchor
    (``>=`` when ``inclusive``); all False without regions or with ``iof_thr <= 0`` (off)."""
    if regions is None or regions.numel() == 0 or iof_thr <= 0:
        return torch.zeros(anchors.shape[0], dtype=torch.bool, device=anchors.device)
    iof = max_iof(anchors, regions)
    return iof >= iof_thr if inclusive else iof > iof_thr


class Matcher(Protocol):
    """``matcher(anchors (A, 4), gt (G, 4)) -> Assignment`` (ThresholdMatcher, S3FDMatcher, ...)."""

    def __call__(self, anchors: torch.Tensor, gt: torch.Tensor) -> Assignment: ...
