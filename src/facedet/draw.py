"""Draw detections on a BGR image (boxes, scores, 5-point landmarks)."""

from __future__ import annotations

import cv2
import numpy as np

from .types import Detections

# right eye, left eye, nose, right mouth corner, left mouth corner
LANDMARK_COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (0, 255, 255)]


def draw_detections(image: np.ndarray, dets: Detections, colour: tuple[int, int, int] = (0, 255, 0)) -> np.ndarray:
    """Return a copy of ``image`` with every face drawn.

    The image must be a ``(H, W, 3)`` uint8 array (checked before OpenCV sees it); coordinates are
    clipped to a margin around the image and faces with non-finite values are skipped, so no input
    reaches OpenCV's drawing code with values it cannot take."""
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
            and image.shape[0] > 0 and image.shape[1] > 0):
        raise ValueError(f"draw_detections needs an (H, W, 3) uint8 image, got "
                         f"{getattr(image, 'shape', type(image).__name__)} {getattr(image, 'dtype', '')}")
    out = np.ascontiguousarray(image).copy()
    h, w = out.shape[:2]
    thick = max(1, round(max(h, w) / 500))
    finite = np.isfinite(dets.boxes).all(1) & np.isfinite(dets.scores)
    if dets.landmarks is not None:
        finite &= np.isfinite(dets.landmarks).all((1, 2))
    margin = 2 * max(h, w)
    boxes = np.clip(np.nan_to_num(dets.boxes), -margin, margin + max(h, w))
    lms = None if dets.landmarks is None else np.clip(np.nan_to_num(dets.landmarks), -margin, margin + max(h, w))
    for i in np.flatnonzero(finite):
        x1, y1, x2, y2 = (int(round(v)) for v in boxes[i])
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        cv2.putText(out, f"{dets.scores[i]:.2f}", (x1, max(0, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick, colour, thick)
        if lms is not None:
            for (x, y), c in zip(lms[i], LANDMARK_COLOURS, strict=True):
                cv2.circle(out, (int(round(x)), int(round(y))), thick + 1, c, -1)
    return out
