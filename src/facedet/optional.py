"""Optional dependencies: imported where used, with an error that names the pip extra to install.

The core (detection on torch or ONNX Runtime, training) needs torch, numpy, OpenCV, onnx, onnxruntime,
tqdm and PyYAML. Evaluation against the official ``.mat`` ground truth and FDDB matching need SciPy
(``facedet[eval]``); plots need Matplotlib (``facedet[plot]``); ``facedet[all]`` has both.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MissingDependency(ImportError):
    """An optional package is not installed; the message says which extra brings it."""


def require(module: str, extra: str, what: str) -> ModuleType:
    """``importlib.import_module(module)``, or :class:`MissingDependency` naming ``facedet[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        top = module.split(".")[0]
        raise MissingDependency(f"{what} needs {top}: pip install 'facedet[{extra}]' (or pip install {top})") from None
