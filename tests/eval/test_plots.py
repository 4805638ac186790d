"""Overlaid PR curves (``facedet.eval.plots.plot_wider_pr_compare``)."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.eval.wider import evaluate_wider
from facedet.eval.wider_gt import GtImage, WiderGroundTruth


def _result(scores: list[float]):
    boxes = np.array([[0, 0, 20, 20], [50, 0, 20, 20]], float)
    gt = WiderGroundTruth([GtImage("0--Parade", "a", boxes, np.zeros(2, bool),
                                   {s: np.array([1, 2]) for s in ("easy", "medium", "hard")})])
    rows = np.c_[boxes, scores]
    return evaluate_wider({"a": rows}, gt, settings=("easy",))


def test_compare_plot_writes_a_png_and_refuses_empty_or_unknown_settings(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from facedet.eval.plots import plot_wider_pr_compare

    out = plot_wider_pr_compare({"a": _result([0.9, 0.8]), "b": _result([0.7, 0.1])}, "easy", tmp_path / "d" / "pr.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no results"):
        plot_wider_pr_compare({}, "easy", tmp_path / "x.png")
    with pytest.raises(ValueError, match="'hard' is not in the results of a"):
        plot_wider_pr_compare({"a": _result([0.9, 0.8])}, "hard", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
