"""Entry point of one DDP test process (spawned by test_ddp.py): a few CPU/gloo steps, then dump weights."""

from __future__ import annotations

import os
from pathlib import Path

import torch


def run(rank: int, world: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)
    from facedet import distributed as D
    from facedet.config import apply_overrides
    from facedet.criteria import GFLCriterion
    from facedet.engine.trainer import Trainer, seed_everything
    from facedet.families import default_config
    from tests.engine.helpers import square_records
    from tests.engine.tiny import TinyDet

    recs = square_records(Path(folder) / f"data{rank}", n=8)  # same seed: identical images on both ranks
    cfg = apply_overrides(default_config("scrfd_500m"), [
        "data.input_size=64", "data.num_workers=0", "train.batch_size=2", "train.epochs=1", "train.warmup_iters=1",
        "train.device=cpu"])
    seed_everything(rank)  # different initial weights per rank: DDP must broadcast rank 0's
    model = TinyDet()
    trainer = Trainer(model, GFLCriterion.from_config(cfg.loss, model), cfg, recs, Path(folder) / "out",
                      progress=False)
    assert D.world_size() == world and trainer.iters_per_epoch == 2
    trainer.fit()
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    torch.save({"params": params, "step": trainer.step}, Path(folder) / f"rank{rank}.pt")
    D.cleanup()
