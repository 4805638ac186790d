"""Group Sampling (Ming et al., TPAMI 2022): FPN-finest detectors, group sampling, grouped Fast R-CNN.

Zoo presets ``gs_<variant>_r{18,50,152}[_rcnn]`` (variants: fpn, fpn_finest, fpn_finest_stride,
fpn_single, fpn_finest_dc); trained with :class:`facedet.criteria.SampledCriterion` (+ the grouped
Fast R-CNN's criterion for ``_rcnn``); tested with :func:`detect_pyramid`; "@S" numbers with
:mod:`.scale_eval`.
"""

from ...lazy import has_torch
from ..base import Family
from .postprocess import TwoStagePostProcessor, postprocess

if has_torch():
    from ...analysis.flops import module_breakdown
    from . import recipe
    from .decode import ScoredBoxes, decode_outputs
    from .fast_rcnn import GroupedFastRCNN, GroupedFastRCNNCriterion, proposals, refine
    from .network import VARIANTS, GroupSamplingDetector, GSConfig
    from .presets import PRESETS, PUBLISHED, WEIGHTS, build, zoo_table
    from .pyramid import PAPER_SCALES, PyramidDetections, detect_pyramid, pyramid_scales
    from .recipe import SAMPLINGS, GSLossConfig, build_criterion, make_sampler

    FAMILY = Family(
        name="group_sampling",
        zoo=zoo_table(),
        criterion=recipe.criterion,
        augment=recipe.augment,
        postprocess=postprocess,
        loss_config=GSLossConfig,
        paper_config=recipe.paper_config,
        test_time=recipe.test_time,
        flops_breakdown=module_breakdown,
    )

    __all__ = [
        "FAMILY", "PAPER_SCALES", "PRESETS", "PUBLISHED", "SAMPLINGS", "VARIANTS", "WEIGHTS", "GSConfig",
        "GSLossConfig",
        "GroupSamplingDetector", "GroupedFastRCNN", "GroupedFastRCNNCriterion", "PyramidDetections", "ScoredBoxes",
        "TwoStagePostProcessor", "build", "build_criterion", "decode_outputs", "detect_pyramid", "make_sampler",
        "proposals", "pyramid_scales", "refine",
    ]
else:  # ONNX Runtime inference only (no torch): decoding, nothing that builds or trains a network
    FAMILY = Family.decoding_only("group_sampling", postprocess)
    __all__ = ["FAMILY", "TwoStagePostProcessor"]
