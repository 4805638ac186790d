"""``facedet search autofem``: a genotype file from a tiny synthetic search, refusals, bit-exact resume."""

from __future__ import annotations

import json

import pytest
import torch

from facedet.cli import main
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider
from facedet.engine.checkpoint import load_checkpoint
from facedet.models.necks.autofem import Genotype
from facedet.search.darts import DartsTrainer, read_alpha_log

TINY = ["data.input_size=64", "train.batch_size=2", "data.num_workers=0"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("syn")
    write_synthetic_wider(root, "train", SyntheticConfig(num_images=10, image_size=(128, 128), face_sizes=(16.0, 64.0),
                                                         max_faces=3, empty_fraction=0.0), seed=0)
    return root


def _args(data, out, *extra: str) -> list[str]:
    return ["search", "autofem", "--data", str(data), "--out", str(out), "--no-progress", "--no-plots", *extra, *TINY]


def test_search_writes_a_genotype_and_refuses_to_overwrite(tmp_path, data, capsys) -> None:
    out = tmp_path / "g" / "genotype.json"
    assert main(_args(data, out, "--steps", "2", "--warmup", "1", "--save-every", "1")) == 0
    g = Genotype.from_json(out)
    assert g.num_levels == 6 and g.cpm is not None and len(g.cpm[0]) == 6
    run = tmp_path / "g" / "genotype_search"
    assert Genotype.from_json(run / "genotype.json") == g
    assert [r["step"] for r in read_alpha_log(run / "alpha.jsonl")] == [0, 1, 2]
    record = json.loads((run / "search.json").read_text())
    assert record["split"] == {"train": 5, "held_out": 5} and record["settings"]["warmup"] == 1
    assert "genotype after 2 steps" in capsys.readouterr().out
    before = out.read_text()
    assert main(_args(data, out, "--steps", "2", "--warmup", "1")) == 2  # --out exists
    assert "exists" in capsys.readouterr().err and out.read_text() == before
    out2 = tmp_path / "g" / "other.json"  # a new --out over the same --run: the earlier search is kept
    assert main(_args(data, out2, "--run", str(run), "--steps", "2", "--warmup", "1")) == 2
    assert "holds an earlier search" in capsys.readouterr().err and not out2.exists()
    assert main(_args(data, out, "--steps", "2", "--warmup", "0", "--cpm-nodes", "0", "--overwrite")) == 0
    assert Genotype.from_json(out).cpm is None  # an FPN-only search, started afresh
    assert main(_args(data, out, "--steps", "2", "--resume", "--overwrite", "--warmup", "1")) == 2
    assert "cannot change --warmup" in capsys.readouterr().err


def test_resumed_search_is_bit_exact(tmp_path, data, monkeypatch, capsys) -> None:
    common = ["--steps", "3", "--warmup", "1", "--save-every", "2"]
    assert main(_args(data, tmp_path / "full.json", *common)) == 0
    step = DartsTrainer.train_step

    def killed_at_step_3(self, images, targets):
        if self.step == 2:
            raise KeyboardInterrupt
        return step(self, images, targets)

    monkeypatch.setattr(DartsTrainer, "train_step", killed_at_step_3)
    assert main(_args(data, tmp_path / "part.json", *common)) == 130  # killed after the checkpoint at step 2
    assert not (tmp_path / "part.json").exists()
    monkeypatch.setattr(DartsTrainer, "train_step", step)
    assert main(_args(data, tmp_path / "part.json", *common, "--resume")) == 0
    a = load_checkpoint(tmp_path / "full_search" / "last.pt")
    b = load_checkpoint(tmp_path / "part_search" / "last.pt")
    assert a["step"] == b["step"] == 3
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert (tmp_path / "full.json").read_text() == (tmp_path / "part.json").read_text()
    assert read_alpha_log(tmp_path / "full_search/alpha.jsonl") == read_alpha_log(tmp_path / "part_search/alpha.jsonl")
