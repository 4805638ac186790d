"""Backbones: MobileNetV1 and ResNet-v1e (SCRFD's searched widths)."""

from .mobilenet import MobileNetV1
from .resnet import BasicBlock, Bottleneck, ResNetV1e

__all__ = ["BasicBlock", "Bottleneck", "MobileNetV1", "ResNetV1e"]
