"""EXTD (Extremely Tiny Face Detector via Iterative Filter Reuse): network, presets, decoding."""

from .network import EXTD
from .presets import PARAMS, PRESETS, RELEASED, build_extd

__all__ = ["EXTD", "PARAMS", "PRESETS", "RELEASED", "build_extd"]
