"""Necks: PAFPN (SCRFD)."""

from .pafpn import PAFPN

__all__ = ["PAFPN"]
