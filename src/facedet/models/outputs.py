"""What every ``Detector.forward`` returns: raw per-level tensors, nothing decoded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor



@dataclass
class HeadOutputs:
    """Raw head outputs, one list entry per pyramid level (finest first).

    - ``cls``: ``(B, H*W*A, C)`` classification **logits** (C = 1 for sigmoid heads, 2 for softmax
      face/background heads).
    - ``reg``: ``(B, H*W*A, 4)`` box regression in the family's own coding (SCRFD: distances
      ``l t r b`` in stride units after the per-level Scale; SSD families: encoded offsets).
    - ``kps``: ``(B, H*W*A, 10)`` landmark offsets in stride units, or None.
    - ``feat_sizes``: ``(H, W)`` of each level, so priors can be built without re-running the net.
    - ``features``: the neck maps, for two-stage detectors whose second stage pools from them
      (Group Sampling's grouped Fast R-CNN); None otherwise.
    - ``aux``: auxiliary outputs of the same type, for a first shot (DSFD/ASFD) or a first step
      (SRN/AInnoFace); trained by :class:`facedet.criteria.AuxCriterion`. Only models built with
      their auxiliary branch return it (a build-time flag, not a train/eval branch).

    Rows are ordered location-major (y, then x), then anchor, as insightface's ONNX layout.
    """

    cls: list[Tensor]
    reg: list[Tensor]
    kps: list[Tensor] | None
    feat_sizes: list[tuple[int, int]]
    features: list[Tensor] | None = None
    aux: HeadOutputs | None = None


def run_levels(head: Callable[[int, Tensor], tuple[Tensor, Tensor]], maps: Sequence[Tensor]) -> HeadOutputs:
    """``HeadOutputs`` of a level-indexed head ``head(i, map) -> (cls, reg)`` run on every map (finest first),
    for heads shared by two shots or steps (DSFD / ASFD, SRN / AInnoFace)."""
    cls, reg = zip(*(head(i, m) for i, m in enumerate(maps)), strict=True)
    return HeadOutputs(list(cls), list(reg), None, [(m.shape[-2], m.shape[-1]) for m in maps])
