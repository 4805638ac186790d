"""Engine tests run torch single-threaded: the tiny models gain nothing from a second thread, and on
a shared, loaded machine OpenMP barrier waits made them several times slower. Restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
