"""Losses, per row or element (callers normalise as their paper says): quality focal (``qfl.py``), box
IoU / GIoU / DIoU and smooth-L1 (``iou.py``), least-squares IoU and -ln IoU (``ls_iou.py``), sigmoid and softmax
focal and Focal* (``focal.py``), SSD MultiBox (``multibox.py``)."""

from facedet.losses.focal import focal_star_loss, sigmoid_focal_loss, softmax_focal_loss
from facedet.losses.iou import box_loss, diou_loss, giou_loss, iou_loss, smooth_l1_loss
from facedet.losses.ls_iou import log_iou_loss, ls_iou_loss
from facedet.losses.multibox import background_loss, multibox_loss
from facedet.losses.qfl import quality_focal_loss

__all__ = ["background_loss", "box_loss", "diou_loss", "focal_star_loss", "giou_loss", "iou_loss", "log_iou_loss",
           "ls_iou_loss", "multibox_loss", "quality_focal_loss", "sigmoid_focal_loss", "smooth_l1_loss",
           "softmax_focal_loss"]
