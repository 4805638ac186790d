"""From raw Group Sampling head outputs to scored boxes (per image): softmax, top-k, box decoding.

Face probability = softmax(logits)[..., 1]; boxes = anchors + deltas without variances (eq. 13), size
deltas clamped at log(1000/16). Each box keeps its sub-detector (scale group of its anchor), which
the per-sub-detector "@S" evaluation needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from facedet.models.detector import as_detector
from facedet.models.outputs import HeadOutputs
from facedet.postprocess import Settings, SoftmaxAnchorPostProcessor
from facedet.samplers.group import GROUP_SCALES, scale_index


@dataclass
class ScoredBoxes:
    """Candidates of one image: ``boxes (K, 4)`` xyxy, ``scores (K,)``, ``groups (K,)`` sub-detector index."""

    boxes: torch.Tensor
    scores: torch.Tensor
    groups: torch.Tensor

    def take(self, idx: torch.Tensor) -> ScoredBoxes:
        return ScoredBoxes(self.boxes[idx], self.scores[idx], self.groups[idx])

    @staticmethod
    def cat(parts: list[ScoredBoxes]) -> ScoredBoxes:
        return ScoredBoxes(torch.cat([p.boxes for p in parts]), torch.cat([p.scores for p in parts]),
                           torch.cat([p.groups for p in parts]))


@torch.no_grad()
def decode_outputs(
    outputs: HeadOutputs,
    model: torch.nn.Module,
    score_thr: float = 0.01,
    pre_nms_topk: int = 50_000,
    group_scales: tuple[float, ...] = GROUP_SCALES,
) -> list[ScoredBoxes]:
    """Per image: boxes with face probability ``>= score_thr``, at most ``pre_nms_topk``, best first."""
    det = as_detector(model)
    post = SoftmaxAnchorPostProcessor(det.anchors, det.coder, Settings(score_thr),  # type: ignore[arg-type]
                                      pre_nms_top_k=pre_nms_topk, inclusive=True)
    groups = scale_index(det.anchors.anchor_sizes(outputs.feat_sizes, outputs.cls[0].device), group_scales)
    return [ScoredBoxes(boxes, scores, groups[rows]) for rows, boxes, scores in post.candidates(outputs)]
