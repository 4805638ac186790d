"""Atomic file writes: a temp file beside the target, fsync, then ``os.replace`` over it, so a reader
(or a run killed mid-write) sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file beside ``path`` for writing (``"wb"`` or ``"w"``, UTF-8); on a clean exit it is
    flushed, fsynced, given the permissions a plain ``open`` would (not mkstemp's 0600) and moved
    over ``path``; on an exception it is deleted and ``path`` is untouched."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def refuse_overwriting_input(out: str | Path | None, *inputs: str | Path | None, flag: str = "--out") -> None:
    """``ValueError`` when ``out`` is (resolves to) one of ``inputs``: writing it would destroy the input
    (a converter's source, an evaluation's ground truth or predictions). ``out=None``: nothing to check."""
    if out is None:
        return
    target = Path(out).resolve()
    for src in inputs:
        if src is not None and Path(src).exists() and Path(src).resolve() == target:
            raise ValueError(f"{flag} {out} is the input file {src}: writing it would destroy the input; "
                             "choose another name")
