"""ASFD training recipe (paper §4; spec families.md §3.5–3.6) and the family's parts.

Paper: ImageNet backbone, SGD momentum 0.9, weight decay 5e-4, batch 48, lr warm-up 1e-6 -> 0.015 over the
first 500 iterations, lr / 10 at epochs 25 and 40, stop at 50. ``paper_config`` scales it to ``--batch``
(lr linear in the batch) and ``--iterations`` (the steps keep their relative place; the warm-up stays
500 iterations or a tenth of the run, whichever is shorter).

Parts: :class:`~facedet.criteria.multibox.MultiBoxCriterion` with DSFD's matching (IoU 0.4, every face's
best anchor forced) and 3:1 hard negatives, under DRMC (DIoU on decoded boxes + the cosine margin), on the
second shot, plus the same criterion on the first shot with its half-size anchors
(:class:`~facedet.criteria.aux.AuxCriterion`, weight ``loss.aux_weight``); data-anchor-sampling with
probability 0.4 (DSFD's 2/5) else the SSD crop; softmax-anchor decoding (the top 5000 before NMS, keep 750;
the score and NMS thresholds are the caller's ``Settings``: the paper's NMS is 0.3); DSFD's multi-scale test.
For the released DSFD (``dsfd_r152_pal``) set ``loss.box_loss=smooth_l1`` and ``loss.margin=0`` for its own
loss (the margin is off anyway without a cosine head).

``loss.neg_iou`` below ``loss.match_iou`` adds RetinaNet's ignore band: anchors whose best IoU lies in
``[neg_iou, match_iou)`` are neither faces nor mined negatives. DSFD has no band (``neg_iou = match_iou``,
the default); at stride 4 the 16-pixel anchors next to a positive overlap its face by 0.3 to 0.4, so
without a band the mined negatives are mostly the positives' neighbours.

Choices [ours] (the method section was withdrawn): ``margin = 0.2`` (lightDSFD's config) in cosine
units, applied as ``s * m`` to the logits; ``aux_weight = 1`` (DSFD's PAL re-implementation uses 1); box
weight 1. The cosine scale ``s`` is a model setting (``ASFDConfig.cos_scale``, 16 by the sweep in
``benchmarks/asfd_cos_scale.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from torch import nn

from ...assigners.threshold import ThresholdMatcher
from ...coders import DeltaCoder
from ...config import Config, DataConfig
from ...criteria.aux import AuxCriterion
from ...criteria.multibox import MultiBoxCriterion
from ...data.crops import extd_train_transforms
from ...data.transforms import Compose
from ...models.detector import Detector, as_detector
from ...priors import AnchorGrid
from ...tta import DSFDTest
from ..base import Budget

PAPER_EPOCHS, PAPER_STEPS, PAPER_WARMUP_ITERS = 50, (25, 40), 500
PAPER_BATCH, PAPER_LR, PAPER_WARMUP_LR = 48, 0.015, 1e-6
ANCHOR_PROB = 0.4


@dataclass(frozen=True)
class ASFDLossConfig:
    """ASFD's ``loss.*`` keys: matching IoU (and the optional ignore band below it), mining ratio, DRMC (box
    loss, cosine margin), the first shot's weight (0: no first shot), box weight, ignore regions."""

    match_iou: float = 0.4
    neg_iou: float = 0.4
    neg_pos_ratio: float = 3.0
    box_loss: str = "diou"
    margin: float = 0.2
    aux_weight: float = 1.0
    box_weight: float = 1.0
    ignore_iof_thr: float = -1.0

    def __post_init__(self) -> None:
        from facedet import checks as C

        C.fraction("loss.match_iou", self.match_iou)
        C.fraction("loss.neg_iou", self.neg_iou)
        if self.neg_iou > self.match_iou:
            raise ValueError(f"loss.neg_iou ({self.neg_iou}) must be <= loss.match_iou ({self.match_iou})")
        C.number("loss.neg_pos_ratio", self.neg_pos_ratio, 0.0, strict=True)
        C.choice("loss.box_loss", self.box_loss, ("diou", "smooth_l1"))
        C.number("loss.margin", self.margin, 0.0)
        C.number("loss.aux_weight", self.aux_weight, 0.0)
        C.number("loss.box_weight", self.box_weight, 0.0)
        if self.ignore_iof_thr > 1.0:
            raise ValueError(f"loss.ignore_iof_thr must be <= 1 (or <= 0: off), got {self.ignore_iof_thr}")


def _shot(model: nn.Module, anchors: AnchorGrid, loss: ASFDLossConfig) -> MultiBoxCriterion:
    coder = as_detector(model).coder
    if not isinstance(coder, DeltaCoder):
        raise ValueError(f"ASFD's criterion encodes SSD deltas; {type(model).__name__} has a {type(coder).__name__}")
    config = getattr(model, "config", None)
    cosine = bool(getattr(config, "cosine", False))
    margin = loss.margin * float(getattr(config, "cos_scale", 1.0)) if cosine else 0.0  # CosFace: s * m
    if loss.neg_iou < loss.match_iou:  # anchors in [neg_iou, match_iou) are neither faces nor mined negatives
        matcher = ThresholdMatcher([loss.neg_iou, loss.match_iou], [0, -1, 1], force_best=True)
    else:
        matcher = ThresholdMatcher([loss.match_iou], [0, 1], force_best=True)
    return MultiBoxCriterion(anchors, coder, matcher,
                             neg_pos_ratio=loss.neg_pos_ratio, box_weight=loss.box_weight,
                             ignore_iof_thr=loss.ignore_iof_thr, box_loss=loss.box_loss, margin=margin)


def criterion(model: nn.Module, cfg: Config) -> nn.Module:
    """DRMC on the second shot, plus the first shot (half-size anchors) when ``loss.aux_weight > 0``.
    Switches the model's first shot on (it has no weights of its own in ASFD; DSFD builds its own)."""
    loss: ASFDLossConfig = cfg.loss
    base = _shot(model, as_detector(model).anchors, loss)
    if loss.aux_weight <= 0:
        return base
    if not hasattr(model, "aux_anchors"):
        raise ValueError(f"{type(model).__name__} has no first shot; set loss.aux_weight=0")
    if hasattr(model, "config") and hasattr(model.config, "cosine"):  # ASFD: the shared head serves both shots
        model.aux = True  # type: ignore[assignment]
    elif not getattr(model, "aux", False):
        raise ValueError(f"{getattr(model, 'preset', type(model).__name__)} has no first shot (it has weights of its "
                         "own in DSFD): train dsfd_r152_pal for the progressive anchor loss, or set loss.aux_weight=0")
    aux_anchors: AnchorGrid = getattr(model, "aux_anchors")  # noqa: B009 (an attribute nn.Module does not declare)
    return AuxCriterion(base, loss.aux_weight, _shot(model, aux_anchors, loss))


def augment(model: Detector, data: DataConfig) -> Compose:
    return extd_train_transforms(data, model.input_mean, model.input_rgb, anchor_prob=ANCHOR_PROB)


def paper_config(cfg: Config, budget: Budget) -> Config:
    """The paper's schedule for ``budget`` (see the module docstring); 640 px crops [ours: DSFD's size]."""
    bs = budget.batch_size or PAPER_BATCH
    ipe = max(1, budget.num_images // bs)
    train = replace(cfg.train, lr=PAPER_LR * bs / PAPER_BATCH, momentum=0.9, weight_decay=5e-4, batch_size=bs,
                    epochs=PAPER_EPOCHS, schedule="step", milestones=PAPER_STEPS, gamma=0.1,
                    warmup_iters=PAPER_WARMUP_ITERS, warmup_ratio=PAPER_WARMUP_LR / PAPER_LR)
    if budget.iterations:
        it = budget.iterations
        train = replace(train, epochs=max(1, math.ceil(it / ipe)), max_steps=it,
                        milestone_iters=tuple(max(1, round(s / PAPER_EPOCHS * it)) for s in PAPER_STEPS),
                        warmup_iters=max(1, min(PAPER_WARMUP_ITERS, it // 10)))
    return replace(cfg, train=train, data=replace(cfg.data, input_size=640))


def test_time() -> DSFDTest:
    return DSFDTest()
