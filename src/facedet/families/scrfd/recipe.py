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

from collections.abc import Sequence

from torch import nn

from ...coders import DistanceCoder
from ...config import Config, DataConfig
from ...criteria.gfl import GFLCriterion, GFLLossConfig
from ...data.transforms import Compose, scrfd_train_transforms
from ...models.detector import Detector, DetectorInfo
from ...postprocess import DistancePostProcessor, Settings
from ...priors import AnchorGrid
from ...tta import SingleScale
from ..base import Budget, OnnxLayout
from .network import SCRFD_ANCHOR_SIZES

STRIDES = (8, 16, 32)


def criterion(model: nn.Module, cfg: Config) -> nn.Module:
    return GFLCriterion.from_config(cfg.loss, model)


def augment(model: Detector, data: DataConfig) -> Compose:
    return scrfd_train_transforms(data)


def postprocess(info: DetectorInfo, settings: Settings, model: nn.Module | None = None) -> DistancePostProcessor:
    coder = info.coder if isinstance(info.coder, DistanceCoder) else DistanceCoder()
    return DistancePostProcessor(info.anchors.points(), settings, info.has_kps, coder)


def paper_config(cfg: Config, budget: Budget) -> Config:
    """The released schedule is the config default; it is not scaled to other budgets."""
    if budget.iterations or budget.batch_size:
        raise ValueError("--iterations / --batch scale the EXTD and Group Sampling recipes; SCRFD's released "
                         "schedule is the default config (set train.epochs / train.batch_size instead)")
    return cfg


def test_time() -> SingleScale:
    return SingleScale(max_side=640)


def recognise_onnx(output_names: Sequence[str]) -> OnnxLayout | None:
    """insightface's SCRFD exports: scores, boxes (and keypoints) for strides 8 / 16 / 32, in that order."""
    n = len(output_names)
    if n not in (6, 9):
        return None
    roles = ("score", "bbox", "kps")[: n // 3]
    names = tuple(f"{r}_{s}" for r in roles for s in STRIDES)
    info = DetectorInfo("scrfd", AnchorGrid(STRIDES, SCRFD_ANCHOR_SIZES), DistanceCoder(), has_kps=n == 9,
                        input_mean=(127.5,) * 3, input_std=(128.0,) * 3, input_rgb=True)
    return OnnxLayout(info, names)


__all__ = ["GFLLossConfig", "augment", "criterion", "paper_config", "postprocess", "recognise_onnx", "test_time"]
