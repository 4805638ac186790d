"""Trainer: bit-exact resume, best-checkpoint tracking, logs, atomic checkpoints and weight export."""

from __future__ import annotations

import csv
import math
import pickle

import pytest
import torch

from facedet.config import Config, apply_overrides
from facedet.convert.state import safe_load
from facedet.criteria import GFLCriterion
from facedet.engine.checkpoint import export_weights, load_checkpoint, save_atomic
from facedet.engine.trainer import Trainer, seed_everything
from facedet.families import default_config, load_config
from tests.engine.helpers import square_records
from tests.engine.tiny import TinyDet

BASE = ["data.input_size=64", "data.num_workers=0", "train.batch_size=4", "train.epochs=3",
        "train.warmup_iters=3", "train.log_interval=1", "train.ema=true", "train.ema_decay=0.9",
        "train.grad_clip=10", "train.milestones=[2]"]

SCRFD_DEFAULTS = default_config("scrfd_500m")  # the shared sections + the GFL loss keys


class FakeEval:
    """Returns a scripted AP per call so best-checkpoint tracking can be checked."""

    def __init__(self, values: list[float]) -> None:
        self.values = list(values)

    def __call__(self, model: torch.nn.Module) -> dict[str, float]:
        return {"ap_hard": self.values.pop(0)}


def _trainer(cfg: Config, recs, out, init_seed: int = 0, evaluator=None) -> Trainer:
    seed_everything(init_seed)
    model = TinyDet(kps=True)
    return Trainer(model, GFLCriterion.from_config(cfg.loss, model), cfg, recs, out, evaluator=evaluator,
                   progress=False)


def test_resume_is_bit_exact(tmp_path) -> None:
    recs = square_records(tmp_path / "data", n=12)
    cfg = apply_overrides(SCRFD_DEFAULTS, BASE)
    full = _trainer(cfg, recs, tmp_path / "full", evaluator=FakeEval([0.1, 0.3, 0.2]))
    hist = full.fit()
    assert [r["epoch"] for r in hist] == [1, 2, 3] and full.step == 9
    assert load_checkpoint(tmp_path / "full" / "best.pt")["epoch"] == 2  # ap 0.3 after epoch 2

    stopped = _trainer(apply_overrides(cfg, ["train.max_steps=4"]), recs, tmp_path / "part",
                       evaluator=FakeEval([0.1, 0.05]))  # epoch 1, then the stop at step 4
    stopped.fit()
    ck = load_checkpoint(tmp_path / "part" / "last.pt")
    assert (ck["epoch"], ck["batch"], ck["step"]) == (1, 1, 4)  # killed inside the second epoch
    resumed = _trainer(cfg, recs, tmp_path / "part", init_seed=123, evaluator=FakeEval([0.3, 0.2]))
    resumed.fit(resume=True)
    assert resumed.step == 9

    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    ea, eb = full.ema.state_dict(), resumed.ema.state_dict()
    assert all(torch.equal(ea[k], eb[k]) for k in ea)
    ma = full.optimizer.state_dict()["state"]
    mb = resumed.optimizer.state_dict()["state"]
    assert all(torch.equal(ma[k]["momentum_buffer"], mb[k]["momentum_buffer"]) for k in ma)
    init = TinyDet(kps=True).state_dict()
    assert not torch.equal(a["cls.0.weight"], init["cls.0.weight"])  # it did train

    rows_full = list(csv.DictReader(open(tmp_path / "full" / "epochs.csv")))
    rows_res = list(csv.DictReader(open(tmp_path / "part" / "epochs.csv")))
    partial = [r for r in rows_res if not float(r["epoch"]).is_integer()]
    assert [(r["step"], r["ap_hard"]) for r in partial] == [("4", "0.05")]  # evaluated where max_steps stopped it
    rows_res = [r for r in rows_res if r not in partial]
    assert [r["loss"] for r in rows_full] == [r["loss"] for r in rows_res]  # same epoch means after resume
    assert rows_res[-1]["best"] == "0.3"
    assert load_config(tmp_path / "part" / "config.yaml") == cfg


def test_export_weights_fp16_loads_into_model(tmp_path) -> None:
    from facedet.zoo import load_state

    recs = square_records(tmp_path / "data", n=8)
    cfg = apply_overrides(SCRFD_DEFAULTS, BASE + ["train.epochs=1"])
    t = _trainer(cfg, recs, tmp_path / "run")
    t.fit()
    out = export_weights(tmp_path / "run" / "last.pt", tmp_path / "w.pt", half=True, use_ema=False)
    sd = safe_load(out)["state_dict"]
    assert sd["cls.0.weight"].dtype == torch.float16
    fresh = TinyDet(kps=True)
    load_state(fresh, out)
    torch.testing.assert_close(fresh.cls[0].weight, t.model.cls[0].weight, rtol=1e-3, atol=1e-4)


class _Unpicklable:
    def __reduce__(self):
        raise pickle.PicklingError("boom")


def test_save_atomic_keeps_previous_file_on_failure(tmp_path) -> None:
    path = tmp_path / "ck.pt"
    save_atomic({"v": 1}, path)
    with pytest.raises(pickle.PicklingError):
        save_atomic({"v": _Unpicklable()}, path)
    assert torch.load(path)["v"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.pt"]  # no temp file left behind
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_cpu_channels_last_and_bf16_train_and_resume_exactly(tmp_path) -> None:
    """``train.cpu_channels_last`` / ``train.cpu_bf16``: the model is trained in channels-last memory under
    bf16 autocast, the losses stay finite and a resumed run still reproduces the uninterrupted one."""
    recs = square_records(tmp_path / "data", n=8)
    cfg = apply_overrides(SCRFD_DEFAULTS, BASE + ["train.cpu_channels_last=true", "train.cpu_bf16=true",
                                                  "train.epochs=2"])
    full = _trainer(cfg, recs, tmp_path / "full")
    hist = full.fit()
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in hist)
    conv = full.model.stem[0][0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert full.autocast and full.autocast_dtype == torch.bfloat16
    part = _trainer(apply_overrides(cfg, ["train.epochs=1"]), recs, tmp_path / "part")
    part.fit()
    resumed = _trainer(cfg, recs, tmp_path / "part")
    resumed.fit(resume=True)
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


def test_step_budget_beyond_the_epochs_stretches_the_cosine(tmp_path) -> None:
    """``train.max_steps`` larger than epochs x iterations runs longer and the cosine spans the whole run
    (it used to end after ``train.epochs`` and train the remaining steps at lr 0)."""
    recs = square_records(tmp_path / "data", n=8)  # 2 iterations per epoch at batch 4
    cfg = apply_overrides(SCRFD_DEFAULTS, BASE + ["train.epochs=1", "train.max_steps=8", "train.schedule=cosine",
                                                  "train.warmup_iters=0", "train.lr=0.1"])
    trainer = _trainer(cfg, recs, tmp_path / "run")
    assert trainer.epochs == 4
    trainer.fit()
    lrs = [float(r["lr"]) for r in csv.DictReader(open(tmp_path / "run" / "train.csv"))]
    assert trainer.step == 8 and len(lrs) == 8
    assert lrs[3] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 4 / 8)))  # the lr set for step 5 of 8
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False)) and lrs[-2] > 0


def test_distilled_run_with_hints_resumes_exactly(tmp_path) -> None:
    """A run with a teacher and feature hints (trainable adapters) resumes bit-exactly: the adapters and
    their optimiser state travel in the checkpoint; the teacher stays frozen."""
    from facedet.criteria.distill import Distiller
    from tests.engine.tiny import NeckDet

    recs = square_records(tmp_path / "data", n=8)
    cfg = apply_overrides(SCRFD_DEFAULTS, BASE + ["train.epochs=2", "distill.teacher=tiny", "distill.feat_weight=1"])

    def make(out: str) -> Trainer:
        torch.manual_seed(0)
        teacher, student = NeckDet(24), NeckDet(16)
        kd = Distiller(teacher, student, cfg.distill)
        return Trainer(student, GFLCriterion.from_config(cfg.loss, student), cfg, recs, tmp_path / out,
                       progress=False, distiller=kd)

    full = make("full")
    frozen = {k: v.clone() for k, v in full.distiller.teacher.state_dict().items()}
    hist = full.fit()
    assert "loss_kd_feat" in hist[0] and "loss_kd_cls" in hist[0]
    assert all(torch.equal(v, full.distiller.teacher.state_dict()[k]) for k, v in frozen.items())
    part = make("part")
    part.cfg = apply_overrides(cfg, ["train.max_steps=3"])
    part.fit()
    resumed = make("part")
    resumed.fit(resume=True)
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    for k, v in full.distiller.adapters.state_dict().items():
        assert torch.equal(v, resumed.distiller.adapters.state_dict()[k]), k


def test_save_atomic_gives_ordinary_file_permissions(tmp_path) -> None:
    import os

    umask = os.umask(0o022)
    try:
        path = save_atomic({"a": torch.zeros(1)}, tmp_path / "x.pt")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: packaged weights must be readable
