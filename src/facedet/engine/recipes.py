"""Per-family training parts for ``facedet train``: the criterion and the augmentation pipeline.

One function per family turns the shared :class:`facedet.config.Config` into ``(criterion,
transform)``; the engine (:class:`facedet.engine.trainer.Trainer`) is the same for all of them.
``data.augment`` picks another family's pipeline (``auto`` = the model's own).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from facedet.config import Config
from facedet.data.transforms import Compose, scrfd_train_transforms


def _mean_rgb(model: nn.Module) -> tuple[object, bool]:
    return getattr(model, "input_mean", 127.5), bool(getattr(model, "input_rgb", True))


def transforms_for(kind: str, model: nn.Module, cfg: Config) -> Compose:
    """The augmentation pipeline ``kind`` (scrfd | extd | gs), pads filled with the model's mean."""
    from facedet.data.crops import extd_train_transforms, gs_train_transforms

    mean, rgb = _mean_rgb(model)
    if kind == "scrfd":
        return scrfd_train_transforms(cfg.data)
    if kind == "extd":
        return extd_train_transforms(cfg.data, mean, rgb)  # type: ignore[arg-type]
    if kind == "gs":
        return gs_train_transforms(cfg.data, mean, rgb)  # type: ignore[arg-type]
    raise ValueError(f"data.augment={kind!r}: choose auto, scrfd, extd or gs")


def _scrfd_criterion(model: nn.Module, cfg: Config) -> nn.Module:
    from facedet.criteria import SCRFDCriterion

    return SCRFDCriterion.from_config(cfg.loss, model)


def _extd_criterion(model: nn.Module, cfg: Config) -> nn.Module:
    import dataclasses

    from facedet.models.extd.recipe import PAPER_RECIPE, build_criterion

    recipe = dataclasses.replace(PAPER_RECIPE, neg_pos_ratio=cfg.loss.neg_pos_ratio)
    return build_criterion(model, recipe, ignore_iof_thr=cfg.loss.ignore_iof_thr)


def _gs_criterion(model: nn.Module, cfg: Config) -> nn.Module:
    from facedet.engine import distributed as D
    from facedet.models.group_sampling.recipe import build_criterion

    # every process draws its own samples (seed + rank); the trainer checkpoints the stream (rng_state)
    return build_criterion(model, cfg.loss.sampling, cfg.loss.num_samples, cfg.loss.reg_loss,
                           seed=cfg.train.seed + D.rank())


# family -> (criterion factory, default augmentation)
FAMILIES: dict[str, tuple[Callable[[nn.Module, Config], nn.Module], str]] = {
    "scrfd": (_scrfd_criterion, "scrfd"),
    "extd": (_extd_criterion, "extd"),
    "group_sampling": (_gs_criterion, "gs"),
}


def training_parts(model: nn.Module, cfg: Config) -> tuple[nn.Module, Compose]:
    """``(criterion, transform)`` for ``model``'s family under ``cfg``."""
    family = getattr(model, "family", "scrfd")
    if family not in FAMILIES:
        raise ValueError(f"no training recipe for the {family!r} family; known: {sorted(FAMILIES)}")
    make_criterion, default_aug = FAMILIES[family]
    kind = default_aug if cfg.data.augment == "auto" else cfg.data.augment
    return make_criterion(model, cfg), transforms_for(kind, model, cfg)


def recipe_overrides(family: str, num_images: int, iterations: int = 0, batch_size: int = 0) -> list[str]:
    """``section.key=value`` overrides of a family's published recipe (``facedet train --recipe paper``).

    EXTD: the paper's iteration schedule scaled to ``iterations`` / ``batch_size`` (lr linear in the
    batch). Group Sampling: 100 epochs, steps at 60 / 80, or the same proportions over ``iterations``
    (its lr is per image and GPU in the paper: ``batch_size`` only sets the batch).
    SCRFD: the config defaults already are its recipe.
    """
    import math

    if family == "extd":
        from facedet.models.extd.recipe import PAPER_RECIPE

        recipe = PAPER_RECIPE.scaled(iterations or None, batch_size or None)
        return recipe.to_overrides(num_images)
    if family == "group_sampling":
        from facedet.models.group_sampling.recipe import PAPER_OVERRIDES

        out = list(PAPER_OVERRIDES)
        if batch_size:
            out.append(f"train.batch_size={batch_size}")
        if iterations:  # the paper's steps at 60 % and 80 % of the budget, in iterations
            ipe = max(1, num_images // (batch_size or 1))
            epochs = max(1, math.ceil(iterations / ipe))
            out += [f"train.epochs={epochs}", f"train.max_steps={iterations}",
                    f"train.milestone_iters=[{max(1, round(0.6 * iterations))}, {max(1, round(0.8 * iterations))}]"]
        return out
    if iterations or batch_size:
        raise ValueError(f"--iterations / --batch apply to the EXTD and Group Sampling recipes, not {family!r}")
    return []
