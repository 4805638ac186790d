"""SCRFD's training and inference recipe: which shared parts it picks.

- criterion: :class:`~facedet.criteria.GFLCriterion` (ATSS + QFL + DIoU + landmarks) with the
  ``loss.*`` keys of :class:`~facedet.criteria.GFLLossConfig`;
- augmentation: large-range square crops, flip, photometric distortion (spec §2.2);
- post-processing: distance decoding (insightface's ONNX layout, +1-pixel NMS);
- paper recipe: the :class:`~facedet.config.Config` defaults are the released schedule (SGD 0.9 / 5e-4,
  lr 0.01, warm-up 1500 iterations, steps at 440 / 544 of 640 epochs, 8 images per GPU);
- test: single scale, long side 640, no flip (spec §3.1);
- foreign files: insightface's ONNX exports (6 or 9 unnamed outputs) are recognised without metadata.
"""

from __future__ import annotations

from torch import nn

from ...config import Config, DataConfig
from ...criteria.gfl import GFLCriterion, GFLLossConfig
from ...data.transforms import Compose, scrfd_train_transforms
from ...models.detector import Detector
from ...tta import SingleScale
from ..base import Budget
from .decoding import postprocess, recognise_onnx


def criterion(model: nn.Module, cfg: Config) -> nn.Module:
    return GFLCriterion.from_config(cfg.loss, model)


def augment(model: Detector, data: DataConfig) -> Compose:
    return scrfd_train_transforms(data)


def paper_config(cfg: Config, budget: Budget) -> Config:
    """The released schedule is the config default; it is not scaled to other budgets."""
    if budget.iterations or budget.batch_size:
        raise ValueError("--iterations / --batch scale the EXTD and Group Sampling recipes; SCRFD's released "
                         "schedule is the default config (set train.epochs / train.batch_size instead)")
    return cfg


def test_time() -> SingleScale:
    return SingleScale(max_side=640)


__all__ = ["GFLLossConfig", "augment", "criterion", "paper_config", "postprocess", "recognise_onnx", "test_time"]
