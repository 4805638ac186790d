"""Annotation errors that name the file and line, and text decoding shared by the readers.

Every reader raises :class:`AnnotationError` (a ``ValueError``) for malformed input, with a message
of the form ``<file>:<line>: <problem>`` so a user can open the file at the right place.
"""

from __future__ import annotations

import os
from pathlib import Path


class AnnotationError(ValueError):
    """Malformed annotation: ``source`` (file name) and 1-based ``line`` (0 when not line-bound)."""

    def __init__(self, source: str, line: int, message: str) -> None:
        where = f"{source}:{line}" if line > 0 else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.problem = message


def read_text(path: str | os.PathLike) -> str:
    """Read an annotation file as UTF-8 text (BOM tolerated); undecodable bytes raise AnnotationError."""
    p = Path(path)
    data = p.read_bytes()
    return decode_text(data, str(p))


def decode_text(data: bytes, source: str) -> str:
    """Decode ``data`` as UTF-8 (BOM tolerated), naming the line of the first undecodable byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AnnotationError(source, line, f"not UTF-8 text (byte {exc.start})") from None


def check_path_text(text: str, source: str, line: int) -> str:
    """Return a relative image path from an annotation line, rejecting ones the OS cannot open."""
    if "\x00" in text:
        raise AnnotationError(source, line, "image path contains a NUL character")
    if not text:
        raise AnnotationError(source, line, "empty image path")
    return text
