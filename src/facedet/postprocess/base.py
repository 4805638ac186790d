"""What a post-processor is: the settings it takes, the frames it maps back to, and its protocol.

Every family brings one post-processor (``Family.postprocess``) with a torch path (the model's
``HeadOutputs``) and a numpy path (ONNX Runtime's arrays, by output name) side by side, plus the
ONNX layout it reads: ``output_names`` and ``flatten`` (what the export writes, in that order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..checks import fraction, integer
from ..models.outputs import HeadOutputs
from ..types import Detections

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class Settings:
    """Detection thresholds: keep scores above ``score_threshold``, suppress at ``nms_threshold`` IoU,
    keep at most ``max_faces`` (None: the family's default cap, if any); ``clip`` boxes to the image."""

    score_threshold: float = 0.5
    nms_threshold: float = 0.4
    max_faces: int | None = None
    clip: bool = True

    def __post_init__(self) -> None:
        fraction("score_threshold", self.score_threshold)
        fraction("nms_threshold", self.nms_threshold, open_low=True)
        if self.max_faces is not None:
            integer("max_faces", self.max_faces)


@dataclass(frozen=True)
class Frame:
    """Where one image sits in the network input: ``scale`` (input pixels per image pixel), the
    original ``image_hw`` and the ``canvas_hw`` of the batch the image was run in."""

    scale: float
    image_hw: tuple[int, int]
    canvas_hw: tuple[int, int]


class PostProcessor(Protocol):
    """Raw outputs -> :class:`Detections` in original-image pixels, one per frame."""

    @property
    def output_names(self) -> tuple[str, ...]: ...

    @property
    def export_error(self) -> str | None:
        """Why this model cannot be exported to ONNX, or None when it can."""
        ...

    def flatten(self, out: HeadOutputs) -> tuple[Tensor, ...]:
        """The tensors the ONNX export writes, in ``output_names`` order."""
        ...

    def torch(self, out: HeadOutputs, frames: Sequence[Frame]) -> list[Detections]: ...

    def numpy(self, arrays: Mapping[str, np.ndarray], frames: Sequence[Frame]) -> list[Detections]: ...
