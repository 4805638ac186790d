"""Anchor samplers (which anchors enter the classification loss)."""

from .hard_negative import hard_negative_mask

__all__ = ["hard_negative_mask"]
