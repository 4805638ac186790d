"""SCRFD's decoding, importable without torch: the post-processor factory and insightface's ONNX layout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...coders import DistanceCoder
from ...models.detector import DetectorInfo
from ...postprocess import DistancePostProcessor, Settings
from ...priors import AnchorGrid
from ..base import OnnxLayout

if TYPE_CHECKING:
    from torch import nn

STRIDES = (8, 16, 32)
SCRFD_ANCHOR_SIZES = ((16.0, 32.0), (64.0, 128.0), (256.0, 512.0))


def postprocess(info: DetectorInfo, settings: Settings, model: nn.Module | None = None) -> DistancePostProcessor:
    coder = info.coder if isinstance(info.coder, DistanceCoder) else DistanceCoder()
    return DistancePostProcessor(info.anchors.points(), settings, info.has_kps, coder)


def recognise_onnx(output_names: Sequence[str]) -> OnnxLayout | None:
    """insightface's SCRFD exports: scores, boxes (and keypoints) for strides 8 / 16 / 32, in that order."""
    n = len(output_names)
    if n not in (6, 9):
        return None
    roles = ("score", "bbox", "kps")[: n // 3]
    names = tuple(f"{r}_{s}" for r in roles for s in STRIDES)
    info = DetectorInfo("scrfd", AnchorGrid(STRIDES, SCRFD_ANCHOR_SIZES), DistanceCoder(), has_kps=n == 9,
                        input_mean=(127.5,) * 3, input_std=(128.0,) * 3, input_rgb=True)
    return OnnxLayout(info, names)
