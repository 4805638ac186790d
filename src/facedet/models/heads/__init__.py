"""Detection heads: SCRFD."""

from .scrfd_head import SCRFDHead

__all__ = ["SCRFDHead"]
