"""The training-curve plot reads a run's epochs.csv (evaluated and plain rows) and writes a PNG."""

from __future__ import annotations

import pytest

from facedet.eval.plots import plot_training


def test_plot_training_writes_png(tmp_path) -> None:
    csv_path = tmp_path / "epochs.csv"
    csv_path.write_text("epoch,loss,ap_easy,ap_medium,ap_hard\n1,2.0,,,\n2,1.5,0.2,0.1,0.05\n3,1.2,,,\n")
    out = plot_training(csv_path, tmp_path / "curves" / "run.png")
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "empty.csv").write_text("epoch,loss\n")
    with pytest.raises(ValueError, match="no epoch rows"):
        plot_training(tmp_path / "empty.csv", tmp_path / "x.png")
