"""Small synthetic training images for engine tests: bright squares (the 'faces') on a grey field."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facedet.data.records import ImageRecord


def square_records(folder: Path, n: int = 8, size: tuple[int, int] = (120, 96), seed: int = 0) -> list[ImageRecord]:
    """``n`` JPEG images with 1-3 filled squares each, their boxes and 5 landmarks per square."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    out = []
    for i in range(n):
        img = np.full((h, w, 3), 80, np.uint8)
        boxes, lms = [], []
        for _ in range(int(rng.integers(1, 4))):
            s = int(rng.integers(14, 40))
            x, y = int(rng.integers(0, w - s)), int(rng.integers(0, h - s))
            cv2.rectangle(img, (x, y), (x + s - 1, y + s - 1), (220, 200, 170), -1)
            boxes.append([x, y, x + s, y + s])
            lms.append([[x + 0.3 * s, y + 0.4 * s], [x + 0.7 * s, y + 0.4 * s], [x + 0.5 * s, y + 0.6 * s],
                        [x + 0.35 * s, y + 0.8 * s], [x + 0.65 * s, y + 0.8 * s]])
        path = folder / f"img{i}.jpg"
        cv2.imwrite(str(path), img)
        out.append(ImageRecord(str(path), np.array(boxes, np.float32), landmarks=np.array(lms, np.float32),
                               landmark_valid=np.ones(len(boxes), bool)))
    return out
