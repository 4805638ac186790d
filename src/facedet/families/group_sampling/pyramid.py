"""Image-pyramid test of Group Sampling (paper §5, spec §5.5).

The image is resized by each scale 0.25·n, n = 1..8 (the training scale jitter), skipping scales
whose longer side would exceed ``max_side`` (3,000 px in the paper); the detections of every level
(score >= ``score_thr``, each level's top ``pre_nms_topk``) are mapped back to the original image,
the best ``pre_nms_topk`` (50k) of all levels kept and merged by NMS 0.5. ``flip=True`` adds the
horizontally flipped image at every scale (the paper's R152 model). With a second stage
(``rcnn``), each level's RPN output goes through NMS 0.7 / top 2000 and the grouped Fast R-CNN
before the merge. Detections keep their sub-detector index (``groups``) for "@S" evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from facedet.io import read_image
from facedet.models.detector import as_detector
from facedet.ops.nms import nms_torch
from facedet.tta.scale_pyramid import QUARTER_STEPS, pyramid_scales
from facedet.types import Detections

from .decode import ScoredBoxes, decode_outputs
from .fast_rcnn import GroupedFastRCNN, proposals, refine
from .network import GroupSamplingDetector

PAPER_SCALES = QUARTER_STEPS


def to_tensor(image_bgr: np.ndarray, scale: float, model: nn.Module, flip: bool = False) -> torch.Tensor:
    """Resize by ``scale`` (bilinear), optional horizontal flip, RGB + mean/std of the model -> (1, 3, H, W)."""
    h, w = image_bgr.shape[:2]
    size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
    img = cv2.resize(image_bgr, size, interpolation=cv2.INTER_LINEAR) if scale != 1.0 else image_bgr
    if flip:
        img = img[:, ::-1]
    det = as_detector(model)
    if det.input_rgb:
        img = img[..., ::-1]
    mean = np.asarray(det.input_mean, dtype=np.float32)
    std = np.asarray(det.input_std, dtype=np.float32)
    arr = ((img.astype(np.float32) - mean) / std).transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(arr))[None]


@dataclass
class PyramidDetections:
    """Merged detections (original-image xyxy) with the sub-detector index of each box."""

    detections: Detections
    groups: np.ndarray


@torch.no_grad()
def detect_level(model: nn.Module, image_bgr: np.ndarray, scale: float, score_thr: float = 0.01,
                 pre_nms_topk: int = 50_000, flip: bool = False, rcnn: GroupedFastRCNN | None = None) -> ScoredBoxes:
    """Candidates of one pyramid level, in original-image coordinates."""
    device = next(model.parameters()).device
    x = to_tensor(image_bgr, scale, model, flip).to(device)
    if rcnn is None:
        rcnn = model.rcnn if isinstance(model, GroupSamplingDetector) else None
    if rcnn is None:
        sb = decode_outputs(model(x), model, score_thr, pre_nms_topk)[0]
    else:
        if not isinstance(model, GroupSamplingDetector):
            raise TypeError(f"a second stage needs a GroupSamplingDetector, got {type(model).__name__}")
        outputs, feats = model.forward_with_features(x)
        props = proposals(outputs, model)
        sb = refine(rcnn, feats[0], props)[0]
        sb = sb.take(torch.nonzero(sb.scores >= score_thr).squeeze(1))
    boxes = sb.boxes / scale
    if flip:
        w = image_bgr.shape[1]
        boxes = torch.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1)
    return ScoredBoxes(boxes, sb.scores, sb.groups)


@torch.no_grad()
def pyramid_candidates(
    model: nn.Module,
    image_bgr: np.ndarray,
    scales: Sequence[float] | None = None,
    max_side: float = 3000.0,
    score_thr: float = 0.01,
    pre_nms_topk: int = 50_000,
    flip: bool = False,
    rcnn: GroupedFastRCNN | None = None,
) -> ScoredBoxes:
    """Every level's candidates (original-image coordinates), before the merging NMS."""
    h, w = image_bgr.shape[:2]
    levels = pyramid_scales(h, w, scales if scales is not None else PAPER_SCALES, max_side)
    return ScoredBoxes.cat([detect_level(model, image_bgr, s, score_thr, pre_nms_topk, f, rcnn)
                            for s in levels for f in ((False, True) if flip else (False,))])


def merge(sb: ScoredBoxes, height: int, width: int, pre_nms_topk: int = 50_000, nms_thr: float = 0.5,
          max_det: int = 1000) -> PyramidDetections:
    """Keep the best ``pre_nms_topk``, NMS, clip to the image, at most ``max_det`` boxes."""
    if len(sb.scores) > pre_nms_topk:
        sb = sb.take(sb.scores.topk(pre_nms_topk).indices)
    sb = sb.take(nms_torch(sb.boxes, sb.scores, nms_thr)[:max_det])
    boxes = sb.boxes.cpu().numpy().astype(np.float32).reshape(-1, 4)
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height)
    return PyramidDetections(Detections(boxes, sb.scores.cpu().numpy().astype(np.float32)), sb.groups.cpu().numpy())


@torch.no_grad()
def detect_pyramid(
    model: nn.Module,
    image: np.ndarray | str,
    scales: Sequence[float] | None = None,
    max_side: float = 3000.0,
    score_thr: float = 0.01,
    pre_nms_topk: int = 50_000,
    nms_thr: float = 0.5,
    max_det: int = 1000,
    flip: bool = False,
    rcnn: GroupedFastRCNN | None = None,
) -> PyramidDetections:
    """Multi-scale detection of one BGR image (or path); ``scales=None`` = the paper's 0.25·n pyramid."""
    img = read_image(image) if not isinstance(image, np.ndarray) else image
    sb = pyramid_candidates(model, img, scales, max_side, score_thr, pre_nms_topk, flip, rcnn)
    return merge(sb, img.shape[0], img.shape[1], pre_nms_topk, nms_thr, max_det)
