"""Anchor samplers (which anchors enter the classification loss): hard-negative mining (SSD), random
1:3, OHEM, weighted random sampling and group sampling, all seeded through a :class:`SampleStream`."""

from .group import GroupSampler
from .hard_negative import hard_negative_mask
from .ohem import OHEMSampler
from .random import AllSampler, RandomSampler, Sampler
from .stream import SampleStream
from .wrs import WRSSampler

__all__ = ["AllSampler", "GroupSampler", "OHEMSampler", "RandomSampler", "SampleStream", "Sampler", "WRSSampler",
           "hard_negative_mask"]
