"""Helpers for the tests of the scripts that build a data set from a bare git mirror
(``benchmarks/extract_*.py``): load such a script as a module, and write blobs, trees and branches into a
bare repository with git plumbing only (no work tree, no user or system git config)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from types import ModuleType

from tests.conftest import ROOT

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def load_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as a module."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def git(git_dir: Path, *args: str, data: bytes | None = None) -> str:
    """The stripped standard output of ``git --git-dir GIT_DIR ARGS...`` (``data`` on its standard input)."""
    out = subprocess.run(["git", "--git-dir", str(git_dir), *args], input=data, capture_output=True, check=True,
                         env={**os.environ, **GIT_ENV})
    return out.stdout.decode().strip()


def init_bare(git_dir: Path) -> Path:
    subprocess.run(["git", "init", "--bare", "-q", str(git_dir)], check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})
    return git_dir


def blob(git_dir: Path, data: bytes) -> str:
    return git(git_dir, "hash-object", "-w", "--stdin", data=data)


def mktree(git_dir: Path, entries: list[str]) -> str:
    """A tree of ``ls-tree``-style lines (``<mode> <type> <id>\\t<name>``)."""
    return git(git_dir, "mktree", data=("\n".join(entries) + "\n").encode())


def set_branch(git_dir: Path, branch: str, tree: str) -> None:
    """``refs/heads/<branch>`` points at a new root commit of ``tree``."""
    git(git_dir, "update-ref", f"refs/heads/{branch}", git(git_dir, "commit-tree", tree, "-m", branch))
