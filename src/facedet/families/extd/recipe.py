"""EXTD training recipe (paper §4.1 / spec families.md §1.5) and the criterion factory.

Paper: SGD lr 1e-3, momentum 0.9, weight decay 5e-4, batch 16, 240k iterations, lr x0.1 at 120k
and 180k, 640x640 input, trained from scratch. The official ``train.py`` instead steps at 240k/360k
of 480k (``CODE_RECIPE``). ``scaled()`` shrinks the schedule to the iterations a user can afford
(steps keep their relative position) and scales lr linearly with the batch size; ``apply()`` writes
it into a typed :class:`~facedet.config.Config` (the engine counts epochs, so iterations are
converted with the training-set size). The family's parts: :class:`~facedet.criteria.MultiBoxCriterion`
with S3FD matching, data-anchor-sampling + SSD crops, softmax-anchor decoding (the official
``Detect``: conf 0.05, top 5000, NMS 0.3, keep 750) and the S3FD multi-scale + flip test with
EXTD's ``max_shrink``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, replace

from torch import nn

from ...assigners.s3fd import S3FDMatcher
from ...config import Config, DataConfig
from ...criteria.multibox import MultiBoxCriterion
from ...data.crops import extd_train_transforms
from ...data.transforms import Compose
from ...models.detector import Detector
from ...tta import PyramidTest, max_shrink_extd
from ..base import Budget


@dataclass(frozen=True)
class EXTDLossConfig:
    """EXTD's ``loss.*`` keys: the mining ratio, and ignore regions (off in the reference: -1)."""

    neg_pos_ratio: float = 3.0
    ignore_iof_thr: float = -1.0

    def __post_init__(self) -> None:
        from facedet import checks as C

        C.number("loss.neg_pos_ratio", self.neg_pos_ratio, 0.0, strict=True)
        if self.ignore_iof_thr > 1.0:
            raise ValueError(f"loss.ignore_iof_thr must be <= 1 (or <= 0: off), got {self.ignore_iof_thr}")


@dataclass(frozen=True)
class EXTDRecipe:
    """Optimiser, schedule and loss settings of EXTD training; iteration-based, as the paper."""

    lr: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 16
    iterations: int = 240_000
    lr_steps: tuple[int, ...] = (120_000, 180_000)
    gamma: float = 0.1
    warmup_iters: int = 0  # neither paper nor code warms up
    input_size: int = 640
    neg_pos_ratio: float = 3.0
    box_weight: float = 1.0  # code; the paper's "balancing parameter 4" is ambiguous (spec §1.4)
    pos_iou: float = 0.35
    comp_low: float = 0.1
    comp_high: float = 0.5

    def scaled(self, iterations: int | None = None, batch_size: int | None = None) -> EXTDRecipe:
        """Same recipe for ``iterations`` steps of ``batch_size`` images (lr scaled linearly)."""
        it = self.iterations if iterations is None else int(iterations)
        bs = self.batch_size if batch_size is None else int(batch_size)
        if it <= 0 or bs <= 0:
            raise ValueError(f"iterations and batch_size must be positive, got {it}, {bs}")
        steps = tuple(max(1, round(s * it / self.iterations)) for s in self.lr_steps)
        return dataclasses.replace(self, iterations=it, batch_size=bs, lr_steps=steps,
                                   lr=self.lr * bs / self.batch_size)

    def iters_per_epoch(self, num_images: int) -> int:
        """Full batches per epoch (the engine drops the last incomplete one)."""
        return max(1, num_images // self.batch_size)

    def apply(self, cfg: Config, num_images: int) -> Config:
        """``cfg`` with this schedule for ``num_images`` training images: enough epochs to hold
        ``iterations`` (the run stops at ``max_steps``) and the lr steps at their exact iterations
        (``milestone_iters``; the epoch milestones are informative)."""
        ipe = self.iters_per_epoch(num_images)
        train = replace(
            cfg.train, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay,
            batch_size=self.batch_size, epochs=max(1, math.ceil(self.iterations / ipe)), schedule="step",
            milestones=tuple(max(1, round(s / ipe)) for s in self.lr_steps), gamma=self.gamma,
            milestone_iters=self.lr_steps, warmup_iters=self.warmup_iters, max_steps=self.iterations)
        return replace(cfg, train=train, data=replace(cfg.data, input_size=self.input_size))


PAPER_RECIPE = EXTDRecipe()
CODE_RECIPE = EXTDRecipe(iterations=480_000, lr_steps=(240_000, 360_000))


def build_criterion(model: nn.Module, recipe: EXTDRecipe = PAPER_RECIPE, **kwargs) -> MultiBoxCriterion:
    """The EXTD training criterion for ``model`` (anchors and coder read from it); ``kwargs`` override
    settings of :class:`~facedet.criteria.multibox.MultiBoxCriterion` (e.g. ``ignore_iof_thr=0.5``)."""
    assigner = S3FDMatcher(recipe.pos_iou, recipe.comp_low, recipe.comp_high)
    opts = {"assigner": assigner, "neg_pos_ratio": recipe.neg_pos_ratio, "box_weight": recipe.box_weight}
    opts.update(kwargs)
    return MultiBoxCriterion.from_model(model, **opts)


def criterion(model: nn.Module, cfg: Config) -> nn.Module:
    loss: EXTDLossConfig = cfg.loss
    return build_criterion(model, dataclasses.replace(PAPER_RECIPE, neg_pos_ratio=loss.neg_pos_ratio),
                           ignore_iof_thr=loss.ignore_iof_thr)


def augment(model: Detector, data: DataConfig) -> Compose:
    return extd_train_transforms(data, model.input_mean, model.input_rgb)


def paper_config(cfg: Config, budget: Budget) -> Config:
    """The paper's schedule scaled to ``--iterations`` / ``--batch`` (lr linear in the batch)."""
    return PAPER_RECIPE.scaled(budget.iterations or None, budget.batch_size or None).apply(cfg, budget.num_images)


def test_time() -> PyramidTest:
    return PyramidTest(max_shrink=max_shrink_extd)
