"""Draw detections on a BGR image (boxes, scores, 5-point landmarks)."""

from __future__ import annotations

import cv2
import numpy as np

from .types import Detections

# right eye, left eye, nose, right mouth corner, left mouth corner
LANDMARK_COLOURS = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (255, 0, 255), (0, 255, 255)]


def draw_detections(image: np.ndarray, dets: Detections, colour: tuple[int, int, int] = (0, 255, 0)) -> np.ndarray:
    """Return a copy of ``image`` with every face drawn."""
    out = image.copy()
    thick = max(1, round(max(out.shape[:2]) / 500))
    for i in range(len(dets)):
        x1, y1, x2, y2 = (int(round(v)) for v in dets.boxes[i])
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        cv2.putText(out, f"{dets.scores[i]:.2f}", (x1, max(0, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick, colour, thick)
        if dets.landmarks is not None:
            for (x, y), c in zip(dets.landmarks[i], LANDMARK_COLOURS, strict=True):
                cv2.circle(out, (int(round(x)), int(round(y))), thick + 1, c, -1)
    return out
