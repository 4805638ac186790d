"""Shared fixtures: the ../shared data folder (skip when absent) and a fixed thread count.

Tests run torch single-threaded: the small models gain nothing from a second thread, and on a
shared, loaded 2-core machine OpenMP barrier waits made depthwise-heavy forwards several times
slower. Tests that measure threads set them themselves; the count is restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

torch.set_num_threads(2)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Downloads and ONNX exports go to a folder of this test session, never the user's cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("FACEDET_CACHE", str(tmp_path_factory.mktemp("cache") / "weights"))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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
