"""Detection heads: SCRFD's shared GN head, the RPN head and its dilated (FPN-finest-DC) variant."""

from .rpn_head import DilatedRPNHead, RPNHead
from .scrfd_head import SCRFDHead

__all__ = ["DilatedRPNHead", "RPNHead", "SCRFDHead"]
