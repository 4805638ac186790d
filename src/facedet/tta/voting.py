"""S3FD box voting (``wider_test.py::bbox_vote``), the merge step of the multi-scale tests.

``DetectFn`` is the protocol every test-time strategy runs on: ``detect(image, shrink) -> (N, 5)`` rows
``x1 y1 x2 y2 score`` in the ORIGINAL image's pixels, for the image resized by ``shrink``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DetectFn = Callable[[np.ndarray, float], np.ndarray]


def box_vote(
    dets: np.ndarray,
    iou_thr: float = 0.3,
    keep: int | None = 750,
    drop_singletons: bool = True,
    offset: float = 1.0,
) -> np.ndarray:
    """S3FD box voting: greedy clusters around the best remaining box (IoU >= ``iou_thr``); each
    cluster becomes its score-weighted mean box with the cluster's max score.

    Loops over clusters only (like NMS); the work inside a cluster is vectorised.
    """
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 5)
    dets = dets[np.argsort(-dets[:, 4], kind="stable")]
    area = (dets[:, 2] - dets[:, 0] + offset) * (dets[:, 3] - dets[:, 1] + offset)
    alive = np.arange(len(dets))
    out = []
    while alive.size:
        top = dets[alive[0]]
        rest = dets[alive]
        iw = np.maximum(0.0, np.minimum(top[2], rest[:, 2]) - np.maximum(top[0], rest[:, 0]) + offset)
        ih = np.maximum(0.0, np.minimum(top[3], rest[:, 3]) - np.maximum(top[1], rest[:, 1]) + offset)
        inter = iw * ih
        iou = inter / (area[alive[0]] + area[alive] - inter)
        member = iou >= iou_thr
        member[0] = True  # a zero-area top box (IoU 0/0) still forms its own cluster
        group = rest[member]
        alive = alive[~member]
        if drop_singletons and len(group) <= 1:
            continue
        w = group[:, 4:5]
        box = (group[:, :4] * w).sum(0) / w.sum()
        out.append(np.concatenate([box, [group[:, 4].max()]]))
    res = np.asarray(out, dtype=np.float64).reshape(-1, 5)
    return res if keep is None else res[:keep]
