"""One annotated image, the currency shared by every data set reader, transform and trainer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ImageRecord:
    """Annotations of one image.

    - ``path``: image file (it may not exist for partial downloads; readers filter those out).
    - ``boxes``: ``(N, 4)`` float32 ``x1 y1 x2 y2`` pixels of valid faces.
    - ``ignore``: ``(M, 4)`` float32 boxes of ignore regions (WIDER ``invalid`` faces, label.txt
      ignore lines).
    - ``landmarks``: ``(N, 5, 2)`` float32 or None; ``landmark_valid``: ``(N,)`` bool (False where the
      annotation is -1).
    - ``attributes``: per-face ``(N, k)`` int arrays keyed by name (blur, occlusion, ...), optional.
    - ``event``: WIDER event folder (``0--Parade``), empty for other sets; ``size``: ``(W, H)`` if the
      annotation file states it.
    """

    path: str
    boxes: np.ndarray
    ignore: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    landmarks: np.ndarray | None = None
    landmark_valid: np.ndarray | None = None
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    event: str = ""
    size: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        """File name without folder and extension (the WIDER prediction-file key)."""
        base = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        return base.rsplit(".", 1)[0]

    @property
    def num_faces(self) -> int:
        return int(len(self.boxes))
