"""Checkpoints load without unpickling arbitrary objects: ours round-trip, a code-running pickle is refused."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from facedet.convert.state import read_state_dict, safe_load
from facedet.engine.checkpoint import load_checkpoint, rng_state, save_atomic


class _Boom:
    def __reduce__(self):  # what a hostile model file does: run a call on load
        return (print, ("code ran on load",))


def test_our_checkpoint_round_trips_and_a_hostile_pickle_is_refused(tmp_path, capsys) -> None:
    ours = {"model": {"w": torch.ones(2)}, "rng": rng_state(), "config": {"train": {"lr": 0.1, "m": [1, 2]}},
            "gen": np.random.default_rng(0).bit_generator.state}
    save_atomic(ours, tmp_path / "ok.pt")
    back = load_checkpoint(tmp_path / "ok.pt")
    assert torch.equal(back["model"]["w"], torch.ones(2)) and back["config"]["train"]["m"] == [1, 2]
    assert np.array_equal(back["rng"]["numpy"][1], ours["rng"]["numpy"][1])
    assert list(read_state_dict(tmp_path / "ok.pt")) == ["w"]
    bad = tmp_path / "bad.pt"
    torch.save({"state_dict": {"w": torch.ones(1)}, "x": _Boom()}, bad, pickle_module=pickle)
    for load in (safe_load, read_state_dict, load_checkpoint):
        with pytest.raises(ValueError, match="refused to load"):
            load(bad)
    assert "code ran on load" not in capsys.readouterr().out


def test_a_file_that_is_no_checkpoint_says_so(tmp_path) -> None:
    import zipfile

    text = tmp_path / "notes.pt"
    text.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="notes.pt: not a PyTorch checkpoint"):
        safe_load(text)
    broken = tmp_path / "broken.pt"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("archive/data.pkl", b"truncated")
    with pytest.raises(ValueError, match="broken.pt: not a readable PyTorch checkpoint"):
        safe_load(broken)
