"""facedet: face detection toolkit (SCRFD, EXTD, ASFD, AInnoFace, Group Sampling)."""

from __future__ import annotations

from typing import Any

from .types import Detections, Face

__version__ = "0.1.0"
__all__ = ["Detections", "Face", "FaceDetector", "load_model", "list_models", "__version__"]


def __getattr__(name: str) -> Any:  # lazy: keep `import facedet` light
    if name == "FaceDetector":
        from .api import FaceDetector

        return FaceDetector
    if name in ("load_model", "list_models"):
        from . import zoo

        return getattr(zoo, name)
    raise AttributeError(name)
