"""SRN's multi-scale + flip test: the scale rule of ``tools/test.py``, the size gates and box voting at 0.5."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facedet.tta import SRNTest


def test_scales_follow_the_reference_rule() -> None:
    t = SRNTest(max_size=1400)
    base, small, large = t.scales(480, 640)  # 1400² / (480·640) = 6.38 -> floor(log_2.25 6.38) = 2
    assert base == [1.0] and small == [0.5]
    assert large == pytest.approx([1.5, 2.25, math.sqrt(1400**2 / (480 * 640))])
    base, small, large = t.scales(1500, 1500)  # larger than max_size²: the capped scale, then 0.75 and 0.5 of it
    r = 1400 / 1500
    assert base == pytest.approx([r]) and small == pytest.approx([0.75 * r, 0.5 * r]) and large == []
    with pytest.raises(ValueError):
        t.scales(0, 10)


def test_passes_gate_sizes_flip_and_vote() -> None:
    calls: list[float] = []

    def detect(image: np.ndarray, shrink: float) -> np.ndarray:
        calls.append(shrink)
        # a 20 px face and a 150 px face, each found twice (voting drops singletons)
        return np.array([[10, 10, 29, 29, 0.9], [11, 10, 30, 29, 0.8],
                         [100, 100, 249, 249, 0.7], [101, 100, 250, 249, 0.6]], np.float64)

    image = np.zeros((300, 400, 3), np.uint8)
    t = SRNTest(max_size=600)
    passes = t.passes(detect, image)
    base, small, large = t.scales(300, 400)
    assert calls == [1.0, 1.0, *small, *large]  # base, flipped base, then the small and large scales
    # small scale keeps only the 150 px face (> 30 px), the large scales only the 20 px one (< 100 px)
    assert len(passes) == 4 + 4 + 2 + 2 * len(large)
    flipped = passes[4:8]
    assert flipped[0, 0] == 400 - 29 - 1 and flipped[0, 2] == 400 - 10 - 1  # W - x2 - 1, as SRN
    voted = t(detect, image)
    assert np.all(np.diff(voted[:, 4]) <= 0) and voted[0, 4] == pytest.approx(0.9)
