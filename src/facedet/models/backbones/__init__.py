"""Backbones: MobileNetV1 and ResNet-v1e (SCRFD's searched widths), torchvision-layout ResNet-18..152."""

from .mobilenet import MobileNetV1
from .resnet import BasicBlock, Bottleneck, ResNetV1e
from .resnet_classic import ResNet

__all__ = ["BasicBlock", "Bottleneck", "MobileNetV1", "ResNet", "ResNetV1e"]
