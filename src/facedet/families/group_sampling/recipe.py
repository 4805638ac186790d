"""Group Sampling training recipe (paper §5, spec families.md §5.5) and the criterion factory.

Paper: 8 GPUs x 1 image, SGD lr 0.01, momentum 0.9, weight decay 5e-5, 100 epochs, lr / 10 at
epochs 60 and 80; scale jitter 0.25·n and flip (``facedet.data.crops.gs_train_transforms``).
``SAMPLINGS`` names the Table-9 rows, so ``facedet train gs_... loss.sampling=ohem`` and the ablation
runner build the same criterion. Test: the quarter-step image pyramid merged by NMS 0.5
(:class:`~facedet.tta.ScalePyramid`); decoding: softmax anchors (scores ``>=`` the threshold, top
50,000 before NMS), plus the grouped Fast R-CNN for the ``_rcnn`` presets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from torch import nn

from facedet import distributed as D
from facedet.config import Config, DataConfig
from facedet.criteria.sampled import SampledCriterion
from facedet.data.crops import gs_train_transforms
from facedet.data.transforms import Compose
from facedet.models.detector import Detector
from facedet.samplers.group import GroupSampler
from facedet.samplers.ohem import OHEMSampler
from facedet.samplers.random import AllSampler, RandomSampler, Sampler
from facedet.samplers.wrs import WRSSampler
from facedet.tta import ScalePyramid

from ..base import Budget

# Table 9 rows: name -> (what it samples, classification loss). ``num`` is per scale group for the
# grouped samplers and 4 * num per image for the others, so every row sees the same total.
SAMPLINGS: tuple[str, ...] = ("random", "ohem", "focal", "wrs", "gs", "gs_ohem", "gs_wrs", "gs_focal")



@dataclass(frozen=True)
class GSLossConfig:
    """Group Sampling's ``loss.*`` keys: the Table-9 row, samples per group and image, the box loss."""

    sampling: str = "gs"  # random | ohem | focal | wrs | gs | gs_ohem | gs_wrs | gs_focal
    num_samples: int = 256  # per scale group and image (x4 per image for the ungrouped samplers)
    reg_loss: str = "ls_iou"  # ls_iou | log_iou | smooth_l1

    def __post_init__(self) -> None:
        from facedet import checks as C

        C.choice("loss.sampling", self.sampling, SAMPLINGS)
        C.integer("loss.num_samples", self.num_samples)
        C.choice("loss.reg_loss", self.reg_loss, ("ls_iou", "log_iou", "smooth_l1"))


def make_sampler(name: str, num: int = 256) -> tuple[Sampler, str]:
    """``(sampler, cls_loss)`` of the Table-9 row ``name`` (see :data:`SAMPLINGS`)."""
    table: dict[str, tuple[Sampler, str]] = {
        "random": (RandomSampler(4 * num), "ce"),
        "ohem": (OHEMSampler(4 * num), "ce"),
        "focal": (AllSampler(), "focal"),
        "wrs": (WRSSampler(4 * num), "ce"),
        "gs": (GroupSampler(num), "ce"),
        "gs_ohem": (GroupSampler(num, mode="ohem"), "ce"),
        "gs_wrs": (GroupSampler(num, mode="wrs"), "ce"),
        "gs_focal": (GroupSampler(num), "focal"),
    }
    if name not in table:
        raise ValueError(f"unknown sampling {name!r}; choose one of {SAMPLINGS}")
    return table[name]


def build_criterion(model: nn.Module, sampling: str = "gs", num: int = 256, reg_loss: str = "ls_iou",
                    seed: int = 0, **kwargs: object) -> nn.Module:
    """The criterion of one Table-9 row for ``model`` (anchors read from it). A detector with the
    grouped Fast R-CNN (``second_stage=True``) gets :class:`TwoStageCriterion`, whose second stage
    group-samples proposals (128 per reference-scale group and image)."""
    from .fast_rcnn import GroupedFastRCNNCriterion, TwoStageCriterion

    sampler, cls_loss = make_sampler(sampling, num)
    first = SampledCriterion.from_model(model, sampler=sampler, cls_loss=cls_loss, reg_loss=reg_loss,
                                              seed=seed, **kwargs)
    if getattr(model, "rcnn", None) is None:
        return first
    return TwoStageCriterion(model, first, GroupedFastRCNNCriterion(seed=seed + 1))


def criterion(model: nn.Module, cfg: Config) -> nn.Module:
    loss: GSLossConfig = cfg.loss
    # every process draws its own samples (seed + rank); the trainer checkpoints the stream (rng_state)
    return build_criterion(model, loss.sampling, loss.num_samples, loss.reg_loss, seed=cfg.train.seed + D.rank())


def augment(model: Detector, data: DataConfig) -> Compose:
    return gs_train_transforms(data, model.input_mean, model.input_rgb)


def paper_config(cfg: Config, budget: Budget) -> Config:
    """SGD 0.01 / 0.9 / 5e-5, 100 epochs, steps at 60 and 80, one image per step, no colour jitter.

    Warm-up: the paper states one only for R152 (20 epochs); 500 linear iterations is Detectron's
    default for these ResNet/FPN detectors and our choice. ``--iterations N`` puts the steps at 60 % and
    80 % of N; ``--batch`` sets the batch only (the paper's lr is per image and GPU)."""
    train = replace(cfg.train, lr=0.01, momentum=0.9, weight_decay=5e-5, epochs=100, schedule="step",
                    milestones=(60, 80), gamma=0.1, batch_size=budget.batch_size or 1, warmup_iters=500)
    if budget.iterations:
        it = budget.iterations
        ipe = max(1, budget.num_images // (budget.batch_size or 1))
        train = replace(train, epochs=max(1, math.ceil(it / ipe)), max_steps=it,
                        milestone_iters=(max(1, round(0.6 * it)), max(1, round(0.8 * it))))
    return replace(cfg, train=train, data=replace(cfg.data, photometric=False))


def test_time() -> ScalePyramid:
    return ScalePyramid()
