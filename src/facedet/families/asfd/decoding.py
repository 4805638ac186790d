"""ASFD's decoding, importable without torch: the second shot through the shared softmax-anchor
post-processor (paper: NMS 0.3, the top 750 of the top 5000)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...models.detector import DetectorInfo
from ...postprocess import Settings, SoftmaxAnchorPostProcessor

if TYPE_CHECKING:
    from torch import nn


def postprocess(info: DetectorInfo, settings: Settings, model: nn.Module | None = None) -> SoftmaxAnchorPostProcessor:
    return SoftmaxAnchorPostProcessor(info.anchors, info.coder, settings, pre_nms_top_k=5000,  # type: ignore[arg-type]
                                      default_top_k=750)
