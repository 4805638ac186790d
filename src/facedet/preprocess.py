"""Image -> network input: letterbox resize to a multiple of 32 and normalisation.

Two sizing modes (``Letterbox``):
- ``input_size=(W, H)``: fit the image inside a fixed canvas keeping its aspect ratio and paste it at
  the top-left, as insightface's SCRFD ``detect`` does (canvas 640x640 by default).
- ``input_size=None``: keep the image's own scale (capped by ``max_side``) and pad bottom/right to
  a multiple of ``divisor``; this is SCRFD's "original size" test mode.

Padding is applied to pixels before normalisation (``pad_value=0``, black, as insightface);
mmdet's test path pads after normalisation (mid-grey): set ``pad_value=127.5`` to reproduce it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .checks import integer, number


@dataclass(frozen=True)
class Letterbox:
    """Resize-and-pad policy; ``__call__`` returns the padded uint8 canvas and the scale used."""

    input_size: tuple[int, int] | None = (640, 640)
    max_side: int | None = None
    divisor: int = 32
    pad_value: float = 0.0

    def __post_init__(self) -> None:
        integer("divisor", self.divisor)
        if self.input_size is not None:
            if len(self.input_size) != 2:
                raise ValueError(f"input_size must be (W, H) or None, got {self.input_size!r}")
            for v in self.input_size:
                if integer("input_size", v) % self.divisor:
                    raise ValueError(f"input_size {tuple(self.input_size)} must be multiples of {self.divisor}")
        if self.max_side is not None:
            integer("max_side", self.max_side, minimum=self.divisor)
        number("pad_value", self.pad_value, 0.0)

    def target_shape(self, h: int, w: int) -> tuple[float, int, int, int, int]:
        """``(scale, new_h, new_w, canvas_h, canvas_w)`` for an ``h x w`` image."""
        if self.input_size is not None:
            cw, ch = self.input_size
            if cw % self.divisor or ch % self.divisor:
                raise ValueError(f"input_size {self.input_size} must be multiples of {self.divisor}")
            # insightface's arithmetic (int truncation), so boxes match the reference pipeline
            if h / w > ch / cw:
                nh, nw = ch, max(1, int(ch / (h / w)))
            else:
                nh, nw = max(1, int(cw * (h / w))), cw
            return nh / h, nh, nw, ch, cw
        scale = 1.0 if self.max_side is None else min(1.0, self.max_side / max(h, w))
        nh, nw = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
        d = self.divisor
        # at least two cells at the coarsest stride: a 1x1 map breaks GroupNorm heads on torch
        return nh / h, nh, nw, max(-(-nh // d) * d, 2 * d), max(-(-nw // d) * d, 2 * d)

    def __call__(self, img: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = img.shape[:2]
        scale, nh, nw, ch, cw = self.target_shape(h, w)
        resized = img if (nh, nw) == (h, w) else cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
        canvas = np.full((ch, cw, 3), self.pad_value, dtype=np.uint8)
        canvas[:nh, :nw] = resized
        return canvas, scale


def normalize(
    canvases: np.ndarray | list[np.ndarray],
    mean: float | Sequence[float],
    std: float | Sequence[float],
    rgb: bool,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """BGR uint8 ``(H, W, 3)`` canvases (same size) -> float32 ``(B, 3, H, W)`` ``(x - mean) / std``.

    ``mean``/``std`` are scalars or per-channel triples in the *output* channel order (RGB when
    ``rgb``).
    One ``np.subtract`` per channel straight into the planar output (``out`` reused when its shape
    fits): about 0.8 ms at 640x640 on one core, against 6-12 ms for ``cv2.dnn.blobFromImage`` or
    a transpose-then-cast numpy expression (both go through an interleaved float copy).
    """
    images = canvases if isinstance(canvases, list) else [canvases]
    h, w = images[0].shape[:2]
    shape = (len(images), 3, h, w)
    if out is None or out.shape != shape:
        out = np.empty(shape, np.float32)
    order = (2, 1, 0) if rgb else (0, 1, 2)
    means = np.broadcast_to(np.asarray(mean, np.float32), (3,))
    scales = 1.0 / np.broadcast_to(np.asarray(std, np.float32), (3,))
    for b, img in enumerate(images):
        for c, src in enumerate(order):
            np.subtract(img[:, :, src], means[c], out=out[b, c], dtype=np.float32)
    if np.all(scales == scales[0]):
        out *= scales[0]
    else:
        out *= scales.reshape(1, 3, 1, 1)
    return out
