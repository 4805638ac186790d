"""DSFD as released (Tencent/FaceDetection-DSFD ``face_ssd.py``, ResNet-152; spec families.md §2.2), the ASFD base.

    C2..C5 ResNet-152; C6 = layer5(C5) 1x1 ->512, 3x3/2; C7 = layer6(C6) 1x1 ->128, 3x3/2 ->256 (BN ReLU)
    FPN, product: P4 = up(lat3(C5)) * smooth3(C4), P3 from P4 and C3, P2 from P3 and C2 (1x1, no ReLU)
    CPM (released ``FEM``) on [P2, P3, P4, C5, C6, C7] -> 512 ch -> unshared DeepHeads, one anchor per cell

- Pyramid anchors (face/head/body) are built as released (part of its size); facedet trains the face part
  only (no PyramidBox head/body labels): ``forward`` returns it, :meth:`DSFD.forward_pyramid` all three.
- First shot (``aux``): the release has none (``progressive_anchor`` there means the pyramid anchors), so we
  add the paper's PAL shot as its unused ``arm_multibox`` and yxlijun/DSFD.pytorch do: separate 3x3 convs
  (loc 4, conf 2) on [C2..C7] (the DeepHeads need 512 channels), anchors half size. ``aux=False``: the release.
- Anchors area (4 x stride)^2, h / w = 1.5, cell-centred; not clamped to the image (``PriorBox`` clamps).
- Bilinear ``align_corners=True``: torch 0.3.1's ``F.upsample``, which the release targets.
- Input as ``widerface_val.py``: BGR minus (104, 117, 123), no scaling. Convs keep the release's biases
  (also before BN), names follow it (``layer5``, ``latlayer1``, ``smooth1``, ``cpm1..5``, ``conv1..4``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ...coders import DeltaCoder
from ...models.backbones.resnet_classic import ResNet
from ...models.layers import MaxOut, flatten_levels
from ...models.outputs import HeadOutputs
from ...priors import AnchorGrid

STRIDES = (4, 8, 16, 32, 64, 128)
ANCHOR_RATIO = 1.5  # h / w (released ``aspect_ratios``)
CPM_CHANNELS = 512  # 256 + 128 + 128
HEAD_CHANNELS = 256  # DeepHeadModule's mid width: min(512, 256)


def _parts(level: int) -> int:
    """Pyramid-anchor parts predicted on a level: face; face + head; face + head + body."""
    return min(level, 2) + 1


class CPM(nn.Module):
    """PyramidBox context-sensitive prediction module (the released ``FEM``): ``concat[256, 128, 128]``."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.cpm1 = nn.Conv2d(in_channels, 256, 3, padding=1)
        self.cpm2 = nn.Conv2d(in_channels, 256, 3, padding=2, dilation=2)
        self.cpm3 = nn.Conv2d(256, 128, 3, padding=1)
        self.cpm4 = nn.Conv2d(256, 128, 3, padding=2, dilation=2)
        self.cpm5 = nn.Conv2d(128, 128, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = F.relu(self.cpm1(x))
        b = F.relu(self.cpm2(x))
        c = F.relu(self.cpm4(b))
        return torch.cat([a, F.relu(self.cpm3(b)), F.relu(self.cpm5(c))], dim=1)


class DeepHead(nn.Module):
    """The released ``DeepHeadModule``: three 3x3 convs (ReLU) then a 1x1 predictor."""

    def __init__(self, in_channels: int, out_channels: int, mid_channels: int = HEAD_CHANNELS) -> None:
        super().__init__()
        mid = min(in_channels, mid_channels)
        self.conv1 = nn.Conv2d(in_channels, mid, 3, padding=1)
        self.conv2 = nn.Conv2d(mid, mid, 3, padding=1)
        self.conv3 = nn.Conv2d(mid, mid, 3, padding=1)
        self.conv4 = nn.Conv2d(mid, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.conv4(F.relu(self.conv3(x)))


def _extra(in_channels: int, mid: int, out: int) -> nn.Sequential:
    """``layer5`` / ``layer6``: 1x1 -> BN -> ReLU -> 3x3/2 -> BN -> ReLU (convs with bias, as released)."""
    return nn.Sequential(nn.Conv2d(in_channels, mid, 1), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                         nn.Conv2d(mid, out, 3, 2, 1), nn.BatchNorm2d(out), nn.ReLU(inplace=True))


@dataclass
class PyramidOutputs:
    """All three pyramid-anchor parts: ``face`` (six levels, with the first shot as ``aux``), ``head``
    (levels 1..5, :attr:`DSFD.head_anchors`) and ``body`` (levels 2..5, :attr:`DSFD.body_anchors`)."""

    face: HeadOutputs
    head: HeadOutputs
    body: HeadOutputs


class DSFD(nn.Module):
    """Released DSFD (see the module docstring); ``forward(images) -> HeadOutputs`` of the face part.

    Args:
        depth / widths: the ResNet trunk (152 and torchvision's widths released; smaller for tests).
        aux: build the first shot (PAL, anchors :attr:`aux_anchors`) and return it as ``outputs.aux``.
        align_corners: of the FPN's bilinear upsampling (True: the release's torch 0.3.1 ``F.upsample``).
    """

    family = "asfd"
    preset: str | None = None
    has_kps = False
    num_anchors = 1
    num_classes = 2
    coder = DeltaCoder()  # SSD variances (0.1, 0.2), no clamp (released ``decode``)
    input_mean: tuple[float, float, float] = (104.0, 117.0, 123.0)  # BGR order, as ``widerface_val.py``
    input_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    input_rgb = False

    def __init__(self, depth: int = 152, widths: Sequence[int] = (64, 128, 256, 512), aux: bool = True,
                 align_corners: bool = True) -> None:
        super().__init__()
        self.aux, self.align_corners = aux, align_corners
        self.backbone = ResNet(depth, widths)
        c2, c3, c4, c5 = self.backbone.out_channels
        self.layer5 = _extra(c5, 512, 512)
        self.layer6 = _extra(512, 128, 256)
        self.source_channels = (c2, c3, c4, c5, 512, 256)
        self.latlayer3 = nn.Conv2d(c5, c4, 1)
        self.latlayer2 = nn.Conv2d(c4, c3, 1)
        self.latlayer1 = nn.Conv2d(c3, c2, 1)
        self.smooth3 = nn.Conv2d(c4, c4, 1)
        self.smooth2 = nn.Conv2d(c3, c3, 1)
        self.smooth1 = nn.Conv2d(c2, c2, 1)
        self.cpm = nn.ModuleList(CPM(c) for c in self.source_channels)
        levels = range(len(STRIDES))
        self.loc = nn.ModuleList(DeepHead(CPM_CHANNELS, 4 * _parts(k)) for k in levels)
        self.conf = nn.ModuleList(DeepHead(CPM_CHANNELS, 2 + 2 * _parts(k)) for k in levels)  # max-in-out: +2
        self.maxout = MaxOut(3)
        self.aux_loc = nn.ModuleList(nn.Conv2d(c, 4, 3, padding=1) for c in self.source_channels) if aux else None
        self.aux_conf = nn.ModuleList(nn.Conv2d(c, 2, 3, padding=1) for c in self.source_channels) if aux else None

        self.strides = STRIDES

        def grid(strides: Sequence[int], scale: float) -> AnchorGrid:
            return AnchorGrid(tuple(strides), tuple((scale * s,) for s in strides), (ANCHOR_RATIO,), (0.5,))

        self.anchors = grid(STRIDES, 4.0)  # second shot, faces 16..512
        self.aux_anchors = grid(STRIDES, 2.0)  # first shot, half the size: 8..256
        self.head_anchors = grid(STRIDES[1:], 2.0)  # released ``min_sizes[:-1]`` on strides 8..128
        self.body_anchors = grid(STRIDES[2:], 1.0)  # ``min_sizes[:-2]`` on strides 16..128
        self.init_weights()

    def init_weights(self) -> None:
        """Xavier-uniform, zero bias on every conv outside the trunk (torchvision's init inside it) [ours]:
        the release has no training code; yxlijun/DSFD.pytorch initialises its DSFD this way."""
        for name, m in self.named_modules():
            if isinstance(m, nn.Conv2d) and not name.startswith("backbone."):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def _up_mul(self, top: torch.Tensor, lateral: torch.Tensor) -> torch.Tensor:
        size = (lateral.shape[-2], lateral.shape[-1])
        return F.interpolate(top, size=size, mode="bilinear", align_corners=self.align_corners) * lateral

    def features(self, images: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(first-shot maps [C2..C7], second-shot CPM maps)``, finest first."""
        c2, c3, c4, c5 = self.backbone(images)
        c6 = self.layer5(c5)
        c7 = self.layer6(c6)
        p4 = self._up_mul(self.latlayer3(c5), self.smooth3(c4))
        p3 = self._up_mul(self.latlayer2(p4), self.smooth2(c3))
        p2 = self._up_mul(self.latlayer1(p3), self.smooth1(c2))
        second = [cpm(x) for cpm, x in zip(self.cpm, (p2, p3, p4, c5, c6, c7), strict=True)]
        return [c2, c3, c4, c5, c6, c7], second

    def max_in_out(self, conf: torch.Tensor, level: int) -> torch.Tensor:
        """Face logits ``(B, 2, H, W)`` [background, face] from the 4 face channels of a level's conf map,
        as the released ``mio_module``: level 0 keeps the largest of 3 background logits, levels 1+ the
        largest of 3 face logits (channels 0-2; channel 3 is their background)."""
        out = self.maxout(conf[:, :4])  # [max(c0, c1, c2), c3]
        # level 0: 3 background logits (max-out); levels 1+: channels 0-2 are face logits, c3 the background
        return out if level == 0 else torch.cat([out[:, 1:], out[:, :1]], dim=1)

    def forward_pyramid(self, images: torch.Tensor) -> PyramidOutputs:
        """Face, head and body outputs of the second shot (the face part carries the first shot as ``aux``)."""
        first, second = self.features(images)
        sizes = [(m.shape[-2], m.shape[-1]) for m in second]
        cls: list[list[torch.Tensor]] = [[], [], []]
        reg: list[list[torch.Tensor]] = [[], [], []]
        for k, x in enumerate(second):
            conf, loc = self.conf[k](x), self.loc[k](x)
            cls[0].append(flatten_levels(self.max_in_out(conf, k), 2))
            for part in range(_parts(k)):
                reg[part].append(flatten_levels(loc[:, 4 * part : 4 * part + 4], 4))
                if part:
                    cls[part].append(flatten_levels(conf[:, 2 + 2 * part : 4 + 2 * part], 2))
        face = HeadOutputs(cls[0], reg[0], None, sizes)
        if self.aux_loc is not None and self.aux_conf is not None:
            face.aux = HeadOutputs([flatten_levels(c(m), 2) for c, m in zip(self.aux_conf, first, strict=True)],
                                   [flatten_levels(r(m), 4) for r, m in zip(self.aux_loc, first, strict=True)],
                                   None, [(m.shape[-2], m.shape[-1]) for m in first])
        return PyramidOutputs(face, HeadOutputs(cls[1], reg[1], None, sizes[1:]),
                              HeadOutputs(cls[2], reg[2], None, sizes[2:]))

    def forward(self, images: torch.Tensor) -> HeadOutputs:
        return self.forward_pyramid(images).face


def build_dsfd_r152(aux: bool = True) -> DSFD:
    """The released DSFD (ResNet-152); ``aux`` adds the first shot (training graph)."""
    return DSFD(152, aux=aux)
