"""Shared fixtures: the ../shared data folder (skip when absent) and fixed thread counts."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the checkout; tests that need real data skip when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data is absent: real-data test skipped")
    return SHARED


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the calling test when it does not exist."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent: real-data test skipped")
    return p
