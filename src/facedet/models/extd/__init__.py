"""EXTD (Extremely Tiny Face Detector via Iterative Filter Reuse): network, presets, recipe, decoding."""

from .decode import decode_extd, decode_extd_np
from .network import EXTD
from .presets import PARAMS, PRESETS, PUBLISHED, RELEASED, build_extd
from .recipe import CODE_RECIPE, PAPER_RECIPE, EXTDRecipe, build_criterion


def __getattr__(name: str):
    """``WEIGHTS`` is built lazily (it needs facedet.zoo, which imports this package lazily)."""
    if name == "WEIGHTS":
        from .presets import _weights

        return _weights()
    raise AttributeError(name)


__all__ = [
    "CODE_RECIPE", "EXTD", "EXTDRecipe", "PAPER_RECIPE", "PARAMS", "PRESETS", "PUBLISHED", "RELEASED", "WEIGHTS",
    "build_criterion", "build_extd", "decode_extd", "decode_extd_np",
]
