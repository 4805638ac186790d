"""EXTD (Yoo et al., "Extremely Tiny Face Detector via Iterative Filter Reuse"): network, presets, recipe."""

from ...lazy import has_torch
from ..base import Family
from .decoding import postprocess

if has_torch():
    from ...analysis.flops import module_breakdown
    from . import recipe
    from .network import EXTD
    from .presets import PARAMS, PRESETS, PUBLISHED, RELEASED, WEIGHTS, build_extd, zoo_table
    from .recipe import CODE_RECIPE, PAPER_RECIPE, EXTDLossConfig, EXTDRecipe, build_criterion

    FAMILY = Family(
        name="extd",
        zoo=zoo_table(),
        criterion=recipe.criterion,
        augment=recipe.augment,
        postprocess=postprocess,
        loss_config=EXTDLossConfig,
        paper_config=recipe.paper_config,
        test_time=recipe.test_time,
        flops_breakdown=module_breakdown,
    )

    __all__ = [
        "CODE_RECIPE", "EXTD", "FAMILY", "PAPER_RECIPE", "PARAMS", "PRESETS", "PUBLISHED", "RELEASED", "WEIGHTS",
        "EXTDLossConfig", "EXTDRecipe", "build_criterion", "build_extd",
    ]
else:  # ONNX Runtime inference only (no torch): decoding, nothing that builds or trains a network
    FAMILY = Family.decoding_only("extd", postprocess)
    __all__ = ["FAMILY"]
