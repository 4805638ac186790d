"""Group Sampling family (Ming et al., TPAMI 2022): FPN-finest detectors, group sampling, grouped Fast R-CNN.

Zoo presets ``gs_<variant>_r{18,50,152}`` (variants: fpn, fpn_finest, fpn_finest_stride, fpn_single,
fpn_finest_dc); train with :class:`facedet.criteria.group_sampling.GroupSamplingCriterion`; test
with :func:`detect_pyramid`; "@S" numbers with :mod:`.scale_eval`.
"""

from .decode import ScoredBoxes, decode_outputs
from .detector import VARIANTS, GroupSamplingDetector, GSConfig
from .fast_rcnn import GroupedFastRCNN, GroupedFastRCNNCriterion, proposals, refine
from .presets import PRESETS, PUBLISHED, WEIGHTS, build
from .pyramid import PAPER_SCALES, PyramidDetections, detect_pyramid, pyramid_scales

__all__ = [
    "PAPER_SCALES", "PRESETS", "PUBLISHED", "VARIANTS", "WEIGHTS", "GSConfig", "GroupSamplingDetector",
    "GroupedFastRCNN", "GroupedFastRCNNCriterion", "PyramidDetections", "ScoredBoxes", "build", "decode_outputs",
    "detect_pyramid", "proposals", "pyramid_scales", "refine",
]
