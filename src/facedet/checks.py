"""Checks of user-facing numbers where they enter (API arguments, settings, config overrides), so a
bad value fails at once with a ``ValueError`` naming the setting instead of crashing late or
running with nonsense (``--threshold nan``, ``--nms 2``, ``train.batch_size=0``)."""

from __future__ import annotations

import math
from numbers import Integral, Real


def fraction(name: str, value: object, *, open_low: bool = False) -> float:
    """A real number in [0, 1] ((0, 1] with ``open_low``); NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number in {'(0' if open_low else '[0'}, 1], got {value!r}")
    v = float(value)
    if not (0.0 < v if open_low else 0.0 <= v) or v > 1.0:
        raise ValueError(f"{name} must be in {'(0' if open_low else '[0'}, 1], got {value!r}")
    return v


def integer(name: str, value: object, minimum: int = 1) -> int:
    """An integer >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def number(name: str, value: object, minimum: float | None = None, *, strict: bool = False) -> float:
    """A finite real number, >= ``minimum`` (> with ``strict``) when given."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    v = float(value)
    if minimum is not None and (v <= minimum if strict else v < minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum}, got {value!r}")
    return v


def choice(name: str, value: object, options: tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return str(value)


def device(name: str, value: object) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (``mps`` too): what ``torch.device`` accepts, checked
    here so ``gpu`` fails with the list rather than deep in a run."""
    text = str(value)
    base, _, index = text.partition(":")
    if base not in ("auto", "cpu", "cuda", "mps") or (index and not index.isdigit()) or (index and base != "cuda"):
        raise ValueError(f"{name} must be auto, cpu, cuda or cuda:N; got {value!r}")
    return text


def is_number_text(text: str) -> bool:
    """Whether ``float(text)`` parses (annotation fields, YAML strings like ``5e-5``)."""
    try:
        float(text)
    except ValueError:
        return False
    return True
