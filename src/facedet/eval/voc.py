"""PASCAL-VOC-style average precision at one IoU, with ignore regions (for quick checks such as the
overfit proof; the WIDER FACE and FDDB protocols live in :mod:`facedet.eval.wider` and ``fddb``).

Detections are matched greedily in descending score order over all images; a detection whose best
unmatched face has IoU >= ``iou_thr`` is a true positive, one that instead overlaps an ignore region
(IoU >= ``iou_thr``) is neither true nor false, any other is a false positive. AP is VOC's all-point
interpolation (:func:`facedet.eval.wider.voc_ap`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from facedet.eval.wider import voc_ap
from facedet.ops.boxes import box_iou_np


def average_precision(
    detections: Sequence[np.ndarray],
    faces: Sequence[np.ndarray],
    ignore: Sequence[np.ndarray] | None = None,
    iou_thr: float = 0.5,
) -> float:
    """AP over images: ``detections[i]`` ``(D, 5)`` xyxy + score, ``faces[i]`` ``(G, 4)`` xyxy,
    ``ignore[i]`` ``(M, 4)`` xyxy or None. 0.0 when there is no face at all."""
    if len(detections) != len(faces):
        raise ValueError(f"{len(detections)} detection arrays for {len(faces)} images")
    total = sum(len(f) for f in faces)
    if total == 0:
        return 0.0
    img = np.concatenate([np.full(len(d), i) for i, d in enumerate(detections)]).astype(int)
    dets = np.concatenate([np.asarray(d, np.float64).reshape(-1, 5) for d in detections])
    order = np.argsort(-dets[:, 4], kind="stable")
    img, dets = img[order], dets[order]
    outcome = np.zeros(len(dets))  # 1 true positive, 0 false positive, NaN ignored
    for i in range(len(faces)):
        rows = np.flatnonzero(img == i)
        gt = np.asarray(faces[i], np.float64).reshape(-1, 4)
        ign = np.zeros((0, 4)) if ignore is None else np.asarray(ignore[i], np.float64).reshape(-1, 4)
        iou = box_iou_np(dets[rows, :4], gt) if len(gt) else np.zeros((len(rows), 0))
        on_ignore = (box_iou_np(dets[rows, :4], ign).max(1) >= iou_thr) if len(ign) else np.zeros(len(rows), bool)
        taken = np.zeros(len(gt), bool)
        for k, r in enumerate(rows):  # greedy in score order: inherently sequential, over one image's detections
            cand = np.where(taken, -1.0, iou[k]) if len(gt) else np.zeros(0)
            j = int(cand.argmax()) if len(cand) else -1
            if j >= 0 and cand[j] >= iou_thr:
                taken[j] = True
                outcome[r] = 1.0
            elif on_ignore[k]:
                outcome[r] = np.nan
    counted = ~np.isnan(outcome)
    tp = np.cumsum(outcome[counted])
    fp = np.cumsum(1.0 - outcome[counted])
    recall = tp / total
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(recall, precision)
