"""Proof that the ASFD recipe learns: a tiny ASFD (ResNet-18 layout at 1/8 width, 32-channel AutoFEM and
head, DRMC with s = 16, first shot as auxiliary) trained with the family's criterion and augmentation on the
synthetic WIDER set scores on a held-out synthetic split under the official WIDER protocol.

Measured on the dev machine (1 thread, 20 epochs x 8 steps, about 25 s): AP easy 0.512, medium 0.591,
loss 41.4 -> 15.2 (``benchmarks/asfd_cos_scale.py``, row s = 16). The thresholds keep under half of that."""

from __future__ import annotations

import pytest
import torch

from facedet.config import apply_overrides
from facedet.data import load_dataset
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider
from facedet.engine.trainer import Trainer, seed_everything
from facedet.engine.wider_eval import WiderValEvaluator
from facedet.families import FAMILIES, default_config
from facedet.families.asfd import build

SYN = dict(image_size=(160, 160), face_sizes=(16.0, 80.0), max_faces=4, empty_fraction=0.0)
RECIPE = ["data.input_size=128", "data.num_workers=0", "data.photometric=false", "train.batch_size=8",
          "train.epochs=20", "train.lr=0.02", "train.warmup_iters=10", "train.grad_clip=10",
          "train.schedule=cosine", "eval.interval=0", "train.log_interval=8", "train.weight_decay=1e-4"]
TINY = dict(backbone="resnet", depth=18, widths=(8, 16, 32, 64), channels=32, cpm_channels=16, extra_channels=(32, 64))


@pytest.mark.slow
def test_tiny_asfd_learns_synthetic_faces(tmp_path) -> None:
    write_synthetic_wider(tmp_path, "train", SyntheticConfig(num_images=64, **SYN), seed=0)
    write_synthetic_wider(tmp_path, "val", SyntheticConfig(num_images=24, **SYN), seed=1)
    records = load_dataset(tmp_path, "train")
    cfg = apply_overrides(default_config("asfd_d0"), RECIPE)
    evaluator = WiderValEvaluator(tmp_path, max_size=160)
    seed_everything(0)
    model = build("asfd_d0", **TINY)
    before = evaluator(model)
    trainer = Trainer(model, FAMILIES["asfd"].criterion(model, cfg), cfg, records, tmp_path / "run", progress=False)
    history = trainer.fit()
    after = evaluator(model)
    assert before["ap_medium"] < 0.05
    assert history[-1]["loss"] < 0.6 * history[0]["loss"]
    assert after["ap_easy"] > 0.2 and after["ap_medium"] > 0.25, after
    assert torch.isfinite(torch.tensor(history[-1]["loss"]))
