"""Per-sub-detector "@S" evaluation (paper §6.1, Tables 3, 5, 8, 9) on top of ``facedet.eval.wider``.

"@S" is the WIDER AP on the "All" setting (IoU 0.5) when only the boxes of the sub-detector of
anchor scale S are kept. We keep the candidates of that sub-detector from every pyramid level and
merge them on their own (NMS 0.5), so another sub-detector's boxes cannot suppress them.
Predictions are rows ``x y w h score`` per ``(event, name)`` key, as ``evaluate_wider`` reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from facedet.eval.predictions import detections_to_rows
from facedet.eval.wider import evaluate_wider
from facedet.eval.wider_gt import WiderGroundTruth
from facedet.io import read_image

from .fast_rcnn import GroupedFastRCNN
from .pyramid import merge, pyramid_candidates

Key = tuple[str, str]
GROUP_NAMES = ("@16", "@32", "@64", "@128")


@torch.no_grad()
def predict_by_group(
    model: nn.Module,
    items: Iterable[tuple[Key, str | Path]],
    scales: Sequence[float] | None = None,
    max_side: float = 3000.0,
    score_thr: float = 0.01,
    nms_thr: float = 0.5,
    num_groups: int = 4,
    rcnn: GroupedFastRCNN | None = None,
    pre_nms_topk: int = 50_000,
) -> tuple[dict[Key, np.ndarray], list[dict[Key, np.ndarray]]]:
    """Rows of all sub-detectors together and of each sub-detector alone, per image key."""
    model.eval()
    merged: dict[Key, np.ndarray] = {}
    per_group: list[dict[Key, np.ndarray]] = [{} for _ in range(num_groups)]
    for key, path in items:
        img = read_image(str(path))
        h, w = img.shape[:2]
        sb = pyramid_candidates(model, img, scales, max_side, score_thr, pre_nms_topk, False, rcnn)
        merged[key] = detections_to_rows(merge(sb, h, w, pre_nms_topk, nms_thr).detections)
        for g in range(num_groups):
            part = sb.take(torch.nonzero(sb.groups == g).squeeze(1))
            per_group[g][key] = detections_to_rows(merge(part, h, w, pre_nms_topk, nms_thr).detections)
    return merged, per_group


def evaluate_scales(
    merged: Mapping[Key, np.ndarray],
    per_group: Sequence[Mapping[Key, np.ndarray]],
    gt: WiderGroundTruth | str | Path,
    images_dir: str | Path | None = None,
    group_names: Sequence[str] = GROUP_NAMES,
    subset: Iterable[Key] | None = None,
) -> dict[str, float]:
    """``{"easy", "medium", "hard", "all", "@16", ...}`` AP (fractions) over the images present in
    ``images_dir`` (and in ``subset`` keys when given)."""
    subset = list(subset) if subset is not None else None
    res = evaluate_wider(merged, gt, images_dir=images_dir, subset=subset).aps
    out = {k: float(v) for k, v in res.items()}
    for name, preds in zip(group_names, per_group, strict=False):
        out[name] = float(evaluate_wider(preds, gt, images_dir=images_dir, settings=("all",), subset=subset).aps["all"])
    return out
