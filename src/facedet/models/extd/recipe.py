"""EXTD training recipe (paper §4.1 / spec families.md §1.5) and the criterion factory.

Paper: SGD lr 1e-3, momentum 0.9, weight decay 5e-4, batch 16, 240k iterations, lr x0.1 at 120k
and 180k, 640x640 input, trained from scratch. The official ``train.py`` instead steps at 240k/360k
of 480k (``CODE_RECIPE``). ``scaled()`` shrinks the schedule to the iterations a user can afford
(steps keep their relative position) and scales lr linearly with the batch size;
``to_overrides()`` turns it into ``facedet train`` ``section.key=value`` overrides (the engine counts
epochs, so iterations are converted with the training-set size).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from torch import nn


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

    def to_overrides(self, num_images: int) -> list[str]:
        """``facedet train`` overrides for ``num_images``: enough epochs to hold ``iterations`` (the run
        stops at ``max_steps``) and the lr steps at their exact iterations (``milestone_iters``)."""
        ipe = self.iters_per_epoch(num_images)
        epochs = max(1, math.ceil(self.iterations / ipe))
        milestones = [max(1, round(s / ipe)) for s in self.lr_steps]  # informative: milestone_iters wins
        return [
            f"train.lr={self.lr}", f"train.momentum={self.momentum}", f"train.weight_decay={self.weight_decay}",
            f"train.batch_size={self.batch_size}", f"train.epochs={epochs}", "train.schedule=step",
            f"train.milestones=[{', '.join(map(str, milestones))}]", f"train.gamma={self.gamma}",
            f"train.milestone_iters=[{', '.join(map(str, self.lr_steps))}]",
            f"train.warmup_iters={self.warmup_iters}", f"train.max_steps={self.iterations}",
            f"data.input_size={self.input_size}",
        ]


PAPER_RECIPE = EXTDRecipe()
CODE_RECIPE = EXTDRecipe(iterations=480_000, lr_steps=(240_000, 360_000))


def build_criterion(model: nn.Module, recipe: EXTDRecipe = PAPER_RECIPE, **kwargs) -> nn.Module:
    """The EXTD training criterion for ``model`` (anchors read from it); ``kwargs`` override settings
    of :class:`facedet.criteria.multibox.MultiBoxCriterion` (e.g. ``ignore_iof_thr=0.5``)."""
    from ...assigners.max_iou import MaxIoUAssigner
    from ...criteria.multibox import MultiBoxCriterion

    assigner = MaxIoUAssigner(recipe.pos_iou, recipe.comp_low, recipe.comp_high)
    opts = {"assigner": assigner, "neg_pos_ratio": recipe.neg_pos_ratio, "box_weight": recipe.box_weight}
    opts.update(kwargs)
    return MultiBoxCriterion.from_model(model, **opts)
