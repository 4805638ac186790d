"""average_weights: the uniform weight average of runs from one start (hand-computed values)."""

from __future__ import annotations

import pytest
import torch

from facedet.convert.state import safe_load
from facedet.engine.checkpoint import average_weights, save_atomic


def _exported(path, w: list[float], steps: int, epoch: int = 1):
    sd = {"conv.weight": torch.tensor(w, dtype=torch.float16), "bn.num_batches_tracked": torch.tensor(steps)}
    return save_atomic({"state_dict": sd, "config": {"model": {"name": "tiny"}}, "epoch": epoch, "step": 10}, path)


def test_average_of_exported_files_and_a_training_checkpoint(tmp_path) -> None:
    a = _exported(tmp_path / "a.pt", [1.0, 2.0, -4.0], steps=7, epoch=6)
    b = _exported(tmp_path / "b.pt", [3.0, 2.0, 0.0], steps=9)
    # a training checkpoint: its EMA weights are averaged unless use_ema=False
    ck = {"model": {"conv.weight": torch.tensor([100.0, 100.0, 100.0]), "bn.num_batches_tracked": torch.tensor(1)},
          "ema": {"conv.weight": torch.tensor([5.0, 5.0, 1.0]), "bn.num_batches_tracked": torch.tensor(1)},
          "epoch": 3, "step": 99}
    c = save_atomic(ck, tmp_path / "last.pt")

    out = safe_load(average_weights([a, b, c], tmp_path / "soup.pt"))
    sd = out["state_dict"]
    assert sd["conv.weight"].dtype == torch.float16
    assert sd["conv.weight"].tolist() == [3.0, 3.0, -1.0]  # (1+3+5)/3, (2+2+5)/3, (-4+0+1)/3
    assert sd["bn.num_batches_tracked"].item() == 7  # integer buffers: the first file's
    assert out["epoch"] == 6 and out["config"] == {"model": {"name": "tiny"}}
    assert out["averaged_from"] == [str(a), str(b), str(c)]

    raw = safe_load(average_weights([a, c], tmp_path / "raw.pt", half=False, use_ema=False))["state_dict"]
    assert raw["conv.weight"].tolist() == [50.5, 51.0, 48.0]  # the model weights, not the EMA


def test_refuses_other_networks_and_single_files(tmp_path) -> None:
    a = _exported(tmp_path / "a.pt", [1.0, 2.0], steps=1)
    b = _exported(tmp_path / "b.pt", [1.0, 2.0, 3.0], steps=1)
    with pytest.raises(ValueError, match=r"b\.pt: conv\.weight has shape \(3,\)"):
        average_weights([a, b], tmp_path / "x.pt")
    save_atomic({"state_dict": {"other.weight": torch.zeros(2)}}, tmp_path / "c.pt")
    with pytest.raises(ValueError, match=r"c\.pt: its weights differ .* key"):
        average_weights([a, tmp_path / "c.pt"], tmp_path / "x.pt")
    with pytest.raises(ValueError, match="at least two"):
        average_weights([a], tmp_path / "x.pt")
    save_atomic({"something": 1}, tmp_path / "d.pt")
    with pytest.raises(ValueError, match="neither exported weights"):
        average_weights([a, tmp_path / "d.pt"], tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()  # nothing half-written
