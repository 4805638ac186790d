"""Classic ResNet-18/34/50/101/152 in torchvision's layout (7x7/2 stem, 3x3/2 max-pool, 1x1-stride shortcut).

Module names (``conv1``, ``bn1``, ``layerK.J.conv1``, ``downsample.0/1``, optional ``fc``) are
torchvision's, so its ImageNet checkpoints load key for key with :func:`load_torchvision_checkpoint`
(the Group Sampling paper starts from them). The blocks are the shared ``BasicBlock`` /
``Bottleneck`` of :mod:`facedet.models.backbones.resnet` (stride on the 3x3 conv, "ResNet v1.5").
``forward`` returns C2..C5 (strides 4, 8, 16, 32); the classifier ``fc`` is only built when
``with_fc=True`` (the paper's thop parameter counts include it, see ``models/group_sampling``).
``widths`` can shrink the stages for tiny test / ablation models (default: torchvision's 64..512).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from .resnet import BasicBlock, Bottleneck

DEPTHS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """torchvision ``ResNet`` trunk returning the four stage outputs (C2, C3, C4, C5).

    ``freeze_bn``: keep every BatchNorm in eval mode (running statistics fixed) even in ``train()``,
    the usual choice when fine-tuning a detector with one image per GPU, as the paper does.
    """

    def __init__(
        self,
        depth: int = 50,
        widths: Sequence[int] = (64, 128, 256, 512),
        with_fc: bool = False,
        num_classes: int = 1000,
        freeze_bn: bool = False,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        if depth not in DEPTHS:
            raise ValueError(f"unsupported ResNet depth {depth}; choose one of {sorted(DEPTHS)}")
        if len(widths) != 4:
            raise ValueError(f"ResNet needs 4 stage widths, got {len(widths)}")
        block, blocks = DEPTHS[depth]
        self.depth, self.freeze_bn = depth, freeze_bn
        stem = int(widths[0])
        self.conv1 = nn.Conv2d(3, stem, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes, outs = stem, []
        for i, (n, planes) in enumerate(zip(blocks, widths, strict=True)):
            stride = 1 if i == 0 else 2
            outplanes = int(planes) * block.expansion
            down = None
            if stride != 1 or inplanes != outplanes:
                down = nn.Sequential(nn.Conv2d(inplanes, outplanes, 1, stride, bias=False), nn.BatchNorm2d(outplanes))
            layer = [block(inplanes, int(planes), stride, down)] + [block(outplanes, int(planes)) for _ in range(n - 1)]
            self.add_module(f"layer{i + 1}", nn.Sequential(*layer))
            inplanes = outplanes
            outs.append(outplanes)
        self.out_channels = tuple(outs)
        self.strides = (4, 8, 16, 32)
        self.fc = nn.Linear(inplanes, num_classes) if with_fc else None
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.last_norm.weight)

    def train(self, mode: bool = True) -> ResNet:
        super().train(mode)
        if mode and self.freeze_bn:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = getattr(self, name)(x)
            outs.append(x)
        return tuple(outs)


def resnet(depth: int, **kwargs: object) -> ResNet:
    """``ResNet(depth, **kwargs)``; e.g. ``resnet(50)`` is torchvision's ``resnet50`` trunk."""
    return ResNet(depth, **kwargs)  # type: ignore[arg-type]


def load_torchvision_checkpoint(model: ResNet, path: str | Path) -> list[str]:
    """Load a torchvision ImageNet state dict (``resnet50-*.pth``) from a local file, names checked strictly.

    Every tensor of ``model`` must be in the file with the same shape; the file may only have extra
    keys under ``fc.`` (when ``model`` has no classifier) and ``num_batches_tracked`` buffers.
    Returns the list of file keys that were skipped. Raises ValueError naming the offending keys.
    """
    from ...convert.state import read_state_dict

    state = read_state_dict(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    allowed_extra = ("fc.",) if model.fc is None else ()
    extra = [k for k in state if k not in own]
    bad_extra = [k for k in extra if not k.startswith(allowed_extra) and not k.endswith("num_batches_tracked")]
    shape = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
             for k, v in own.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or bad_extra or shape:
        parts = []
        if missing:
            parts.append(f"missing {missing[:8]}{' ...' if len(missing) > 8 else ''}")
        if bad_extra:
            parts.append(f"unexpected {bad_extra[:8]}{' ...' if len(bad_extra) > 8 else ''}")
        if shape:
            parts.append(f"shape mismatch {shape[:4]}")
        raise ValueError(f"{path}: not a torchvision ResNet-{model.depth} checkpoint: " + "; ".join(parts))
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    return extra
