"""torch imported on first use, so ONNX Runtime inference of an ``.onnx`` file runs without torch.

Modules on that path write ``if TYPE_CHECKING: import torch`` / ``else: from facedet.lazy import torch``:
type checkers see the real module, and at run time the first attribute access imports it. Without
torch installed, that access raises :class:`~facedet.optional.MissingDependency` saying how to get it.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

INSTALL_TORCH = ("pip install torch (CPU build: pip install torch --index-url https://download.pytorch.org/whl/cpu); "
                 "ONNX Runtime inference of an .onnx file does not need it")


class LazyModule(ModuleType):
    """A stand-in for module ``name`` that imports it when an attribute is first read."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._lazy_target: ModuleType | None = None

    def _load(self) -> ModuleType:
        if self._lazy_target is None:
            try:
                self._lazy_target = importlib.import_module(self.__name__)
            except ImportError:
                from .optional import MissingDependency

                raise MissingDependency(f"this needs {self.__name__}: {INSTALL_TORCH}") from None
        return self._lazy_target

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._load(), attr)
        self.__dict__[attr] = value  # later reads are plain attribute reads (hot paths read torch.* often)
        return value


@functools.cache
def has_torch() -> bool:
    """Whether torch imports here (an installed but broken torch, say a CUDA library that fails to load,
    counts as absent: ONNX Runtime inference still works). Families import it anyway when it does."""
    try:
        importlib.import_module("torch")
    except Exception:  # noqa: BLE001 - ImportError, OSError from a broken native library, ...
        return False
    return True


torch = LazyModule("torch")


F = TypeVar("F", bound=Callable[..., Any])


def no_grad(fn: F) -> F:
    """``@torch.no_grad()`` that imports torch when the function is called, not when it is defined
    (for plain functions and methods; a generator's body would run outside it)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch.no_grad():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
