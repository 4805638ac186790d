"""Necks: PAFPN (SCRFD) and FPN (Group Sampling; any subset of levels P2-P5)."""

from .fpn import FPN
from .pafpn import PAFPN

__all__ = ["FPN", "PAFPN"]
