"""Assigners: which prior trains on which ground truth."""

from facedet.assigners.atss import ATSSAssigner

__all__ = ["ATSSAssigner"]
