"""AInnoFace training recipe (paper extract l. 134–139; spec families.md §4.6) and the family's parts.

Paper: ImageNet backbone, SGD momentum 0.9, weight decay 1e-4, batch 32, warm-up 0.0003125 -> 0.01 over
the first 5 epochs, lr / 10 at epochs 100 and 120, stop at 130. ``paper_config`` scales it to the
user's ``--batch`` (lr linear in the batch) and ``--iterations`` (warm-up and steps keep their relative
place). Parts: :class:`~facedet.criteria.two_step.TwoStepCriterion`, PyramidBox data-anchor-sampling
mixed with SSD crops (``ainnoface_train_transforms``), the two-step decoding and SRN's multi-scale test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from torch import nn

from ...config import Config, DataConfig
from ...criteria.two_step import BOX_LOSSES, TwoStepCriterion
from ...data.crops import ainnoface_train_transforms
from ...data.transforms import Compose
from ...models.detector import Detector
from ...tta import SRNTest
from ..base import Budget

PAPER_EPOCHS, PAPER_STEPS, PAPER_WARMUP_EPOCHS = 130, (100, 120), 5
PAPER_BATCH, PAPER_LR, PAPER_WARMUP_LR = 32, 0.01, 0.0003125


@dataclass(frozen=True)
class AInnoFaceLossConfig:
    """AInnoFace's ``loss.*`` keys: focal settings, the box loss and its weight λ, the STC θ, ignore regions."""

    alpha: float = 0.25
    gamma: float = 2.0
    box_weight: float = 1.0
    theta: float = 0.99
    reg_loss: str = "log_iou"
    ignore_iof_thr: float = -1.0

    def __post_init__(self) -> None:
        from facedet import checks as C

        C.fraction("loss.alpha", self.alpha)
        C.number("loss.gamma", self.gamma, 0.0)
        C.number("loss.box_weight", self.box_weight, 0.0)
        C.fraction("loss.theta", self.theta)
        C.choice("loss.reg_loss", self.reg_loss, BOX_LOSSES)
        if self.ignore_iof_thr > 1.0:
            raise ValueError(f"loss.ignore_iof_thr must be <= 1 (or <= 0: off), got {self.ignore_iof_thr}")


def criterion(model: nn.Module, cfg: Config) -> nn.Module:
    loss: AInnoFaceLossConfig = cfg.loss
    return TwoStepCriterion.from_model(model, alpha=loss.alpha, gamma=loss.gamma, box_weight=loss.box_weight,
                                       theta=loss.theta, reg_loss=loss.reg_loss, ignore_iof_thr=loss.ignore_iof_thr)


def augment(model: Detector, data: DataConfig) -> Compose:
    return ainnoface_train_transforms(data, model.input_mean, model.input_rgb)


def paper_config(cfg: Config, budget: Budget) -> Config:
    """The paper's schedule for ``budget`` (see the module docstring); 640 px crops [ours]."""
    bs = budget.batch_size or PAPER_BATCH
    ipe = max(1, budget.num_images // bs)
    epochs, steps, warmup = PAPER_EPOCHS, PAPER_STEPS, PAPER_WARMUP_EPOCHS * ipe
    train = replace(cfg.train, lr=PAPER_LR * bs / PAPER_BATCH, momentum=0.9, weight_decay=1e-4, batch_size=bs,
                    epochs=epochs, schedule="step", milestones=steps, gamma=0.1, warmup_iters=warmup,
                    warmup_ratio=PAPER_WARMUP_LR / PAPER_LR)
    if budget.iterations:
        it = budget.iterations
        frac = [s / PAPER_EPOCHS for s in steps]
        train = replace(train, epochs=max(1, math.ceil(it / ipe)), max_steps=it,
                        milestone_iters=tuple(max(1, round(f * it)) for f in frac),
                        warmup_iters=max(1, round(PAPER_WARMUP_EPOCHS / PAPER_EPOCHS * it)))
    return replace(cfg, train=train, data=replace(cfg.data, input_size=640))


def test_time() -> SRNTest:
    return SRNTest()
