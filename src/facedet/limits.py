"""The decoder pixel limit, read from the environment without importing OpenCV (``facedet/__init__``
hands it to OpenCV before OpenCV loads; ``facedet.io`` applies it to every image header)."""

from __future__ import annotations

import os
import warnings

DEFAULT_MAX_IMAGE_PIXELS = 1 << 27


def pixel_limit_from_env() -> int:
    """``FACEDET_MAX_IMAGE_PIXELS`` when it is a positive integer; otherwise a warning and the default."""
    text = os.environ.get("FACEDET_MAX_IMAGE_PIXELS", "").strip()
    if not text:
        return DEFAULT_MAX_IMAGE_PIXELS
    if text.isdigit() and int(text) > 0:
        return int(text)
    warnings.warn(f"FACEDET_MAX_IMAGE_PIXELS={text!r} is not a positive integer: using {DEFAULT_MAX_IMAGE_PIXELS}",
                  stacklevel=2)
    return DEFAULT_MAX_IMAGE_PIXELS
