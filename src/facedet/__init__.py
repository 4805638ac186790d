"""facedet: face detection toolkit (SCRFD, EXTD, ASFD, AInnoFace, Group Sampling)."""

from __future__ import annotations

import logging
from typing import Any

from .types import Detections, Face

# library etiquette: facedet logs under "facedet.*" and leaves the handlers to the application; the
# command line installs one (facedet.cli.main), so its warnings and notes reach stderr
logging.getLogger("facedet").addHandler(logging.NullHandler())

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
