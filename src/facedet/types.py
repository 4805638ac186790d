"""Detection results: boxes (xyxy pixels in the original image), scores and optional 5-point landmarks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

LANDMARK_NAMES = ("right_eye", "left_eye", "nose", "right_mouth", "left_mouth")


@dataclass(frozen=True)
class Face:
    """One detected face."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] | None = None

    def crop(self, image: np.ndarray, size: int = 112) -> np.ndarray:
        """The ``size x size x 3`` uint8 crop aligned by this face's landmarks onto ArcFace's template
        (:mod:`facedet.align`; what insightface's ``norm_crop`` gives a recogniser). ``image`` is the
        BGR uint8 array the face was found in; a model without landmarks raises ``ValueError``."""
        if self.landmarks is None:
            raise ValueError("this face has no landmarks (a model without keypoints): no aligned crop")
        from .align import align_face

        return align_face(image, np.asarray(self.landmarks), size)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"box": [round(v, 2) for v in self.box], "score": round(self.score, 5)}
        if self.landmarks is not None:
            d["landmarks"] = [[round(x, 2), round(y, 2)] for x, y in self.landmarks]
        return d


@dataclass
class Detections:
    """Faces found in one image, sorted by descending score.

    ``boxes`` is ``(N, 4)`` float32 ``x1 y1 x2 y2``; ``scores`` ``(N,)``; ``landmarks`` ``(N, 5, 2)`` or None.
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        if len(self.boxes) != len(self.scores):
            raise ValueError(f"boxes ({len(self.boxes)}) and scores ({len(self.scores)}) differ in length")
        if self.landmarks is not None:
            self.landmarks = np.asarray(self.landmarks, dtype=np.float32).reshape(-1, 5, 2)
            if len(self.landmarks) != len(self.boxes):
                raise ValueError("landmarks and boxes differ in length")

    @classmethod
    def empty(cls, with_landmarks: bool = False) -> Detections:
        lm = np.zeros((0, 5, 2), np.float32) if with_landmarks else None
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), lm)

    def __len__(self) -> int:
        return len(self.scores)

    def __iter__(self) -> Iterator[Face]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, i: int) -> Face:
        lm = None
        if self.landmarks is not None:
            lm = tuple((float(x), float(y)) for x, y in self.landmarks[i])
        b = self.boxes[i]
        return Face((float(b[0]), float(b[1]), float(b[2]), float(b[3])), float(self.scores[i]), lm)

    def select(self, keep: np.ndarray) -> Detections:
        """Subset by an index or boolean array."""
        lm = None if self.landmarks is None else self.landmarks[keep]
        return Detections(self.boxes[keep], self.scores[keep], lm)

    def crops(self, image: np.ndarray, size: int = 112) -> np.ndarray:
        """``(N, size, size, 3)`` uint8 aligned crops of every face (see :meth:`Face.crop`)."""
        if self.landmarks is None:
            raise ValueError("these detections have no landmarks (a model without keypoints): no aligned crops")
        from .align import align_face

        return np.stack([align_face(image, lm, size) for lm in self.landmarks]) if len(self) else (
            np.zeros((0, size, size, 3), np.uint8))

    def to_dict(self) -> dict[str, Any]:
        return {"faces": [f.to_dict() for f in self]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())
