"""Group Sampling decoding: softmax anchors for the single-stage models, and the grouped Fast R-CNN
refinement (score = mean of both stages' face probabilities) for the ``_rcnn`` presets, torch only:
the second stage pools proposals chosen by NMS, which the ONNX layout does not carry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...models.detector import DetectorInfo
from ...models.outputs import HeadOutputs
from ...postprocess import Frame, Settings, SoftmaxAnchorPostProcessor, suppress_torch, to_image_np
from ...types import Detections

if TYPE_CHECKING:
    import torch
    from torch import Tensor, nn
else:
    from ...lazy import torch

from ...lazy import no_grad

PRE_NMS_TOP_K = 50_000


def postprocess(info: DetectorInfo, settings: Settings, model: nn.Module | None = None
                ) -> SoftmaxAnchorPostProcessor | TwoStagePostProcessor:
    single = SoftmaxAnchorPostProcessor(info.anchors, info.coder, settings,  # type: ignore[arg-type]
                                        pre_nms_top_k=PRE_NMS_TOP_K, default_top_k=None, inclusive=True)
    if model is not None and getattr(model, "rcnn", None) is not None:
        return TwoStagePostProcessor(single, model)
    return single


@dataclass(frozen=True)
class TwoStagePostProcessor:
    """RPN proposals refined by the model's grouped Fast R-CNN; see the module docstring."""

    single: SoftmaxAnchorPostProcessor
    model: nn.Module
    export_error: str | None = ("ONNX export covers single-stage detectors; this Group Sampling model has the "
                                "grouped Fast R-CNN second stage (run it with backend='torch')")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ()

    def flatten(self, out: HeadOutputs) -> tuple[Tensor, ...]:
        raise ValueError(self.export_error)

    def numpy(self, arrays: Mapping[str, np.ndarray], frames: Sequence[Frame]) -> list[Detections]:
        raise ValueError(self.export_error)

    @no_grad
    def torch(self, out: HeadOutputs, frames: Sequence[Frame]) -> list[Detections]:
        from .fast_rcnn import GroupedFastRCNN, proposals, refine

        if out.features is None:
            raise ValueError("two-stage decoding needs the neck maps (HeadOutputs.features)")
        st = self.single.settings
        rcnn = getattr(self.model, "rcnn", None)
        if not isinstance(rcnn, GroupedFastRCNN):
            raise ValueError("two-stage decoding needs a detector built with second_stage=True")
        cands = refine(rcnn, out.features[0], proposals(out, self.model))
        dets = []
        for c, frame in zip(cands, frames, strict=True):
            c = c.take(torch.nonzero(c.scores >= st.score_threshold).squeeze(1))
            keep = suppress_torch(c.boxes, c.scores, st.nms_threshold, st.max_faces)
            boxes = to_image_np(c.boxes[keep].cpu().numpy().astype(np.float32), frame.scale,
                                frame.image_hw if st.clip else None)
            dets.append(Detections(boxes, c.scores[keep].cpu().numpy()))
        return dets
