"""EXTD tests run single-threaded: on a shared 2-core machine, 2 OpenMP threads make these small
depthwise-heavy forwards 10x slower. The previous thread count is restored afterwards."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
