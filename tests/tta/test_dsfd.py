"""DSFD's multi-scale test: the S3FD pyramid plus 0.75, 1.5 and the fixed pyramid, with their size gates."""

from __future__ import annotations

import numpy as np

from facedet.tta import DSFDTest, max_shrink_dsfd


def test_dsfd_scales_and_gates_follow_widerface_val() -> None:
    calls = []

    def detect(image, shrink):
        calls.append(shrink)
        return np.array([[100, 100, 109, 109, 0.9], [300, 300, 499, 499, 0.8]], dtype=np.float64)

    image = np.zeros((768, 1024, 3), np.uint8)
    assert max_shrink_dsfd(768, 1024) == 3.0  # sqrt(2^31 / 200 / area) = 3.69, capped at 3
    t = DSFDTest()
    passes = t.passes(detect, image)
    # base 1 (+ flip), shrunk {0.5, 0.75}, enlarged {2, 1.5, 3}, pyramid {0.25, 1.25, 1.75, 2.25}
    assert calls == [1.0, 1.0, 0.5, 0.75, 2.0, 1.5, 3.0, 0.25, 1.25, 1.75, 2.25]
    assert sorted(t.scales(768, 1024)) == sorted(set(calls))
    # base 2 + flip 2 + shrunk: big only (2) + enlarged: small only (3) + 0.25: big (1) + the rest: small (3)
    assert len(passes) == 13
    sides = passes[:, 2] - passes[:, 0] + 1
    assert (sides[4:6] > 30).all() and (sides[6:9] < 100).all() and sides[9] > 30 and (sides[10:] < 100).all()
    calls.clear()
    few = t.passes(detect, np.zeros((6000, 6000, 3), np.uint8))  # m = 0.55: bt = (st + m) / 2 < 1
    m = max_shrink_dsfd(6000, 6000)
    assert np.allclose(calls, [m, m, m / 2, (m / 2 + m) / 2, 0.25])
    # base 2 + flip 2 + shrunk big (1) + "enlarged" below 1: big only (1) + 0.25 big (1)
    assert len(few) == 7 and (few[4:, 2] - few[4:, 0] + 1 > 30).all()
    small = DSFDTest().scales(6000, 6000)  # m = 0.55: no 0.75 / 1.5 pass, no enlarged pyramid pass
    assert 0.75 not in small and 1.5 not in small and small[-1] == 0.25
