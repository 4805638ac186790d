"""Group Sampling training recipe (paper §5, spec families.md §5.5) and the criterion factory.

Paper: 8 GPUs x 1 image, SGD lr 0.01, momentum 0.9, weight decay 5e-5, 100 epochs, lr / 10 at
epochs 60 and 80; scale jitter 0.25·n and flip (``facedet.data.crops.gs_train_transforms``).
``SAMPLINGS`` names the Table-9 rows, so ``facedet train gs_... loss.sampling=ohem`` and the ablation
runner build the same criterion.
"""

from __future__ import annotations

from torch import nn

from facedet.criteria.group_sampling import GroupSamplingCriterion
from facedet.samplers.group import GroupSampler
from facedet.samplers.ohem import OHEMSampler
from facedet.samplers.random import AllSampler, RandomSampler, Sampler
from facedet.samplers.wrs import WRSSampler

# Table 9 rows: name -> (what it samples, classification loss). ``num`` is per scale group for the
# grouped samplers and 4 * num per image for the others, so every row sees the same total.
SAMPLINGS: tuple[str, ...] = ("random", "ohem", "focal", "wrs", "gs", "gs_ohem", "gs_wrs", "gs_focal")

# Warm-up: the paper states one only for R152 (20 epochs); 500 linear iterations is Detectron's default
# for these ResNet/FPN detectors and our choice (``train.warmup_iters`` overrides it).
PAPER_OVERRIDES: tuple[str, ...] = (
    "train.lr=0.01", "train.momentum=0.9", "train.weight_decay=5e-5", "train.epochs=100", "train.schedule=step",
    "train.milestones=[60, 80]", "train.gamma=0.1", "train.batch_size=1", "data.photometric=false",
    "train.warmup_iters=500",
)


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
    first = GroupSamplingCriterion.from_model(model, sampler=sampler, cls_loss=cls_loss, reg_loss=reg_loss,
                                              seed=seed, **kwargs)
    if getattr(model, "rcnn", None) is None:
        return first
    return TwoStageCriterion(model, first, GroupedFastRCNNCriterion(seed=seed + 1))
