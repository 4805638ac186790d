"""Start a detector from an ImageNet classifier: a torchvision ResNet state dict into ``model.backbone``.

The zoo's importer for families whose papers train from ImageNet (Group Sampling, AInnoFace / SRN):
``facedet train ainnoface_r50 model.init=resnet50-0676ba61.pth`` loads the file here, names and shapes
checked strictly; every other layer keeps its own initialisation.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ..models.backbones.resnet_classic import ResNet, load_torchvision_checkpoint


def import_imagenet_backbone(model: nn.Module, path: str | Path) -> list[str]:
    """Load a torchvision ImageNet ResNet checkpoint into ``model.backbone``; returns the skipped file keys
    (the classifier). ValueError when ``model`` has no ResNet backbone or the file is not that ResNet."""
    backbone = getattr(model, "backbone", None)
    if not isinstance(backbone, ResNet):
        name = getattr(model, "preset", type(model).__name__)
        raise ValueError(f"{path}: {name} has no ResNet backbone to load an ImageNet checkpoint into")
    return load_torchvision_checkpoint(backbone, path)
