"""Test-time strategies on one protocol, ``detect(image, shrink) -> (N, 5)`` in original-image pixels:
single scale (SCRFD), the S3FD multi-scale + flip pyramid with box voting (EXTD; DSFD / ASFD with
DSFD's extra passes), the
quarter-step image pyramid with an NMS merge (Group Sampling) and SRN's multi-scale + flip test
with box voting at 0.5 (AInnoFace / SRN). Each family names its own
(``Family.test_time``)."""

from .dsfd import DSFDTest
from .s3fd import PyramidTest, flip_detect, max_shrink_dsfd, max_shrink_extd, max_shrink_s3fd, resize_by
from .scale_pyramid import QUARTER_STEPS, ScalePyramid, pyramid_scales
from .single import SingleScale
from .srn import SRNTest
from .voting import DetectFn, box_vote

__all__ = [
    "DSFDTest", "QUARTER_STEPS", "DetectFn", "PyramidTest", "SRNTest", "ScalePyramid", "SingleScale", "box_vote",
    "flip_detect",
    "max_shrink_dsfd", "max_shrink_extd", "max_shrink_s3fd", "pyramid_scales", "resize_by",
]
