"""AInnoFace (Zhang et al., arXiv 1905.01585) and SRN (Chi et al., AAAI 2019): ResNet + C6/C7, SRN FPN,
one RFE head shared by levels and steps, selective two-step classification (P2–P4) and regression
(P5–P7), sigmoid focal + -ln IoU losses, max-out on P2, PyramidBox data-anchor-sampling.

Presets ``srn_r50``, ``ainnoface_r152``, ``ainnoface_r50``, ``ainnoface_r18``.
"""

from ...lazy import has_torch
from ..base import Family
from .postprocess import TwoStepPostProcessor, postprocess

if has_torch():
    from ...analysis.flops import module_breakdown
    from . import recipe
    from .network import STRIDES, AInnoFace, AInnoFaceConfig
    from .presets import PRESETS, PUBLISHED, WEIGHTS, build, zoo_table
    from .recipe import AInnoFaceLossConfig

    FAMILY = Family(
        name="ainnoface",
        zoo=zoo_table(),
        criterion=recipe.criterion,
        augment=recipe.augment,
        postprocess=postprocess,
        loss_config=AInnoFaceLossConfig,
        paper_config=recipe.paper_config,
        test_time=recipe.test_time,
        flops_breakdown=module_breakdown,
    )

    __all__ = ["FAMILY", "PRESETS", "PUBLISHED", "STRIDES", "WEIGHTS", "AInnoFace", "AInnoFaceConfig",
               "AInnoFaceLossConfig", "TwoStepPostProcessor", "build", "postprocess"]
else:  # ONNX Runtime inference only (no torch): decoding, nothing that builds or trains a network
    FAMILY = Family.decoding_only("ainnoface", postprocess)
    __all__ = ["FAMILY", "TwoStepPostProcessor"]
