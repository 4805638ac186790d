"""EXTD (Extremely Tiny Face Detector via Iterative Filter Reuse): network, presets, recipe, decoding."""

from .decode import decode_extd, decode_extd_np
from .network import EXTD
from .presets import PARAMS, PRESETS, RELEASED, build_extd
from .recipe import CODE_RECIPE, PAPER_RECIPE, EXTDRecipe, build_criterion

__all__ = [
    "CODE_RECIPE", "EXTD", "EXTDRecipe", "PAPER_RECIPE", "PARAMS", "PRESETS", "RELEASED",
    "build_criterion", "build_extd", "decode_extd", "decode_extd_np",
]
