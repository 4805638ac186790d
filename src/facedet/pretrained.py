"""Weights that facedet itself trained and ships inside the package (``facedet/weights/``).

A preset ``NAME`` has packaged weights when ``facedet/weights/NAME_facedet.pt`` exists; its model
card is ``facedet/weights/MODEL_CARD.md``. Official third-party weights are never packaged: the zoo
downloads them (or takes a local file) on request.
"""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def default_weights(name: str) -> Path | None:
    """Path of our packaged checkpoint for preset ``name``, or None when we ship none."""
    path = WEIGHTS_DIR / f"{name}_facedet.pt"
    return path if path.is_file() else None
