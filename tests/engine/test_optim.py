"""Optimiser factories: by name, split parameter groups (SGD for weights, Adam for the rest), and a
trainer that steps, schedules and checkpoints several optimisers."""

from __future__ import annotations

import pytest
import torch

from facedet.config import apply_overrides
from facedet.criteria import GFLCriterion
from facedet.engine.checkpoint import load_checkpoint
from facedet.engine.optim import adam_params, by_name, split
from facedet.engine.trainer import Trainer, seed_everything
from facedet.families import default_config
from tests.engine.helpers import square_records
from tests.engine.tiny import TinyDet

BASE = ["data.input_size=64", "data.num_workers=0", "train.batch_size=4", "train.epochs=2", "train.warmup_iters=2",
        "train.log_interval=1", "train.milestones=[1]"]


def test_by_name_and_bad_name() -> None:
    tc = default_config("scrfd_500m").train
    model = torch.nn.Linear(2, 2)
    opt = by_name("sgd")(model, tc)
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.9 and opt.defaults["weight_decay"] == 5e-4
    assert isinstance(by_name("adam")(model, tc), torch.optim.Adam)
    with pytest.raises(ValueError, match="train.optimizer"):
        by_name("lbfgs")


def test_split_puts_each_parameter_in_one_optimiser() -> None:
    tc = default_config("scrfd_500m").train
    model = TinyDet()
    is_head = lambda name, p: name.startswith("cls.")  # noqa: E731
    sgd, adam = split(is_head)(model, tc)
    assert isinstance(sgd, torch.optim.SGD) and isinstance(adam, torch.optim.Adam)
    ids_a = {id(p) for g in sgd.param_groups for p in g["params"]}
    ids_b = {id(p) for g in adam.param_groups for p in g["params"]}
    assert not ids_a & ids_b and ids_a | ids_b == {id(p) for p in model.parameters()}
    assert ids_b == {id(p) for n, p in model.named_parameters() if n.startswith("cls.")}
    with pytest.raises(ValueError, match="parameters"):
        split(lambda n, p: True)(model, tc)


def test_trainer_steps_schedules_and_resumes_two_optimisers(tmp_path) -> None:
    recs = square_records(tmp_path / "data", n=8)
    cfg = apply_overrides(default_config("scrfd_500m"), BASE)
    second = apply_overrides(cfg, ["train.lr=0.003"]).train
    factory = split(lambda n, p: n.startswith("cls."), second_factory=adam_params, second_cfg=second)

    def make(out: str, steps: int = 0) -> Trainer:
        seed_everything(0)
        model = TinyDet()
        c = apply_overrides(cfg, [f"train.max_steps={steps}"]) if steps else cfg
        return Trainer(model, GFLCriterion.from_config(c.loss, model), c, recs, tmp_path / out, progress=False,
                       optimizer=factory)

    full = make("full")
    before = {n: p.detach().clone() for n, p in full.model.named_parameters()}
    full.fit()
    assert len(full.optimizers) == 2 and full.step == 4
    changed = {n for n, p in full.model.named_parameters() if not torch.equal(p, before[n])}
    assert any(n.startswith("cls.") for n in changed) and any(n.startswith("stem.") for n in changed)
    assert full.optimizers[1].param_groups[0]["lr"] == 0.003  # unscheduled: the schedule drives the first only
    assert len(load_checkpoint(tmp_path / "full" / "last.pt")["optimizers"]) == 1

    part = make("part", steps=3)
    part.fit()
    resumed = make("part")
    resumed.fit(resume=True)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
