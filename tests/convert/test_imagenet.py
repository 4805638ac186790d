"""``model.init=<torchvision resnet .pth>``: the zoo routes an ImageNet classifier into the backbone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from facedet import zoo
from facedet.models.backbones.resnet_classic import ResNet


def _imagenet_file(tmp_path: Path, depth: int) -> tuple[Path, dict[str, torch.Tensor]]:
    torch.manual_seed(3)
    classifier = ResNet(depth, with_fc=True, num_classes=1000)
    for p in classifier.parameters():  # away from any default init, so a load is visible
        torch.nn.init.normal_(p, 0.0, 0.05)
    path = tmp_path / f"resnet{depth}-imagenet.pth"
    torch.save(classifier.state_dict(), path)
    return path, classifier.state_dict()


@pytest.mark.parametrize("preset", ["ainnoface_r18", "gs_fpn_r18"])
def test_imagenet_resnet_loads_into_the_backbone_only(tmp_path: Path, preset: str) -> None:
    path, state = _imagenet_file(tmp_path, 18)
    torch.manual_seed(0)
    fresh = zoo.build_model(preset).state_dict()
    torch.manual_seed(0)
    loaded = zoo.load_model(preset, path).state_dict()
    backbone_keys = [k for k in loaded if k.startswith("backbone.")]
    assert backbone_keys and all(torch.equal(loaded[k], state[k[len("backbone."):]]) for k in backbone_keys)
    others = [k for k in loaded if not k.startswith("backbone.") and loaded[k].is_floating_point()]
    assert others and all(torch.equal(loaded[k], fresh[k]) for k in others)  # same seed: the model's own init


def test_a_resnet_of_another_depth_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path, _ = _imagenet_file(tmp_path, 34)
    with pytest.raises(ValueError, match=r"resnet34-imagenet\.pth.*not a torchvision ResNet-18"):
        zoo.load_model("ainnoface_r18", path)
