"""Losses: quality focal loss (qfl.py) and box regression losses (iou.py)."""

from facedet.losses.iou import box_loss, diou_loss, giou_loss, iou_loss, smooth_l1_loss
from facedet.losses.qfl import quality_focal_loss

__all__ = ["box_loss", "diou_loss", "giou_loss", "iou_loss", "quality_focal_loss", "smooth_l1_loss"]
