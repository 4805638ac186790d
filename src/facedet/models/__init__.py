"""Shared network parts: the :class:`~facedet.models.detector.Detector` contract, ``HeadOutputs``,
backbones, necks, heads and layers. Whole detectors live in their family (``facedet/families``)."""

from .detector import Detector, DetectorInfo, as_detector
from .outputs import HeadOutputs

__all__ = ["Detector", "DetectorInfo", "HeadOutputs", "as_detector"]
