"""Read files out of a bare git mirror (no work tree), for the scripts that build a data set from a public
repository fetched as a mirror (``benchmarks/extract_facemask_ilc.py``, ``benchmarks/extract_afw.py``)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO


class GitMirrorError(RuntimeError):
    """A git command on the mirror failed; the message holds the command and git's own words."""


def git_output(git_dir: str | Path, *args: str) -> bytes:
    """The standard output of ``git --git-dir GIT_DIR ARGS...``; :class:`GitMirrorError` when git fails."""
    try:
        return subprocess.run(["git", "--git-dir", str(git_dir), *args], check=True, capture_output=True).stdout
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip()
        raise GitMirrorError(f"git {' '.join(args)} failed in {git_dir}: {detail}") from exc


class BlobReader:
    """Blob contents through one ``git cat-file --batch`` process (one process for thousands of reads).

    ``read`` takes any object name git accepts: a blob id or ``<rev>:<path>``."""

    def __init__(self, git_dir: str | Path) -> None:
        self._proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in: IO[bytes] = self._proc.stdin
        self._out: IO[bytes] = self._proc.stdout

    def read(self, name: str) -> bytes | None:
        """The blob's bytes; None when the mirror lacks the object or it is not a blob."""
        self._in.write(name.encode() + b"\n")
        self._in.flush()
        header = self._out.readline().split()
        if len(header) != 3:  # "<name> missing" (or ambiguous)
            return None
        data = self._out.read(int(header[2]))
        self._out.read(1)  # the newline after the contents
        return data if header[1] == b"blob" else None

    def close(self) -> None:
        self._in.close()
        self._proc.wait()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
