"""facedet: face detection toolkit (SCRFD, EXTD, ASFD, AInnoFace, Group Sampling)."""

from __future__ import annotations

import logging
import os
from typing import Any

# OpenCV reads its decoder pixel limit from the environment when it is first imported: give it
# facedet's limit before anything imports cv2 (facedet.io holds the limit and explains it)
from .limits import pixel_limit_from_env  # noqa: E402 - imports no OpenCV

MAX_IMAGE_PIXELS = pixel_limit_from_env()
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))

from .types import Detections, Face  # noqa: E402 - after the OpenCV limit above

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
