"""ASFD (Li et al., "ASFD: Automatic and Scalable Face Detector", arXiv 2003.11228) on DSFD's dual shot:
backbone + extra layers, AutoFEM (genotype-built AutoFEM-FPN and CPM cells), one head shared by both shots,
DRMC loss (DIoU + large-margin cosine), the first shot as an auxiliary loss; presets ``asfd_d0`` …
``asfd_d6`` and the released DSFD (``dsfd_r152``).
"""

from ...lazy import has_torch
from ..base import Family
from .decoding import postprocess

if has_torch():
    from ...analysis.flops import module_breakdown
    from . import recipe
    from .dsfd import DSFD, build_dsfd_r152
    from .genotypes import ASFD_GENOTYPE, FPN_ONLY_GENOTYPE, HAND_CPM, LIGHTDSFD_FPN
    from .network import ASFD, STRIDES, ASFDConfig
    from .presets import LADDER, PRESETS, PUBLISHED, WEIGHTS, build, from_arch, zoo_table
    from .recipe import ASFDLossConfig
    from .search import AUTOFEM_SEARCH

    FAMILY = Family(
        name="asfd",
        zoo=zoo_table(),
        criterion=recipe.criterion,
        augment=recipe.augment,
        postprocess=postprocess,
        loss_config=ASFDLossConfig,
        paper_config=recipe.paper_config,
        test_time=recipe.test_time,
        flops_breakdown=module_breakdown,
        from_arch=from_arch,
        searches={"autofem": AUTOFEM_SEARCH},
    )

    __all__ = ["ASFD", "ASFD_GENOTYPE", "DSFD", "FAMILY", "FPN_ONLY_GENOTYPE", "HAND_CPM", "LADDER", "LIGHTDSFD_FPN",
               "PRESETS", "PUBLISHED", "STRIDES", "WEIGHTS", "ASFDConfig", "ASFDLossConfig", "build",
               "build_dsfd_r152", "from_arch", "postprocess"]
else:  # ONNX Runtime inference only (no torch): decoding, nothing that builds or trains a network
    FAMILY = Family.decoding_only("asfd", postprocess)
    __all__ = ["FAMILY"]
