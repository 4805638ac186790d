"""The candidate operations of ASFD's AutoFEM (spec families.md §3.2; lightDSFD ``operations.py``).

Every op maps ``C -> C`` channels at stride 1. Convolutions are lightDSFD's ``BN_OPS``: **ReLU first**,
then the convolution(s) without bias, then BatchNorm. ``sep_conv_kxk`` is a *single* separable conv
(depthwise kxk, pointwise 1x1), not DARTS's doubled one; ``dil_conv_kxk[_d]`` is its dilated version
(dilation 2, or ``_3``: 3); ``conv_1xk_kx1`` is the RFE-style depthwise 1xk then kx1 then pointwise.
Shared by the fixed neck (:mod:`.autofem`, built from a genotype) and the search (``search/darts.py``),
so a model never imports search code.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

OpFactory = Callable[[int], nn.Module]


def _separable(c: int, k: tuple[int, int], dilation: int = 1) -> list[nn.Module]:
    pad = (dilation * (k[0] - 1) // 2, dilation * (k[1] - 1) // 2)
    return [nn.Conv2d(c, c, k, 1, pad, dilation=dilation, groups=c, bias=False)]


def relu_conv_bn(*convs: nn.Module, c: int) -> nn.Sequential:
    """``ReLU -> convs -> BN``: the common shape of every AutoFEM convolution op."""
    return nn.Sequential(nn.ReLU(inplace=False), *convs, nn.BatchNorm2d(c))


def conv_1x1(c: int) -> nn.Module:
    return relu_conv_bn(nn.Conv2d(c, c, 1, bias=False), c=c)


def sep_conv(k: int, dilation: int = 1) -> OpFactory:
    def make(c: int) -> nn.Module:
        return relu_conv_bn(*_separable(c, (k, k), dilation), nn.Conv2d(c, c, 1, bias=False), c=c)
    return make


def asym_conv(k: int) -> OpFactory:
    """Depthwise 1xk then kx1, then pointwise (``conv_1x3_3x1``, ``conv_1x5_5x1``)."""
    def make(c: int) -> nn.Module:
        return relu_conv_bn(*_separable(c, (1, k)), *_separable(c, (k, 1)), nn.Conv2d(c, c, 1, bias=False), c=c)
    return make


def max_pool_3x3(c: int) -> nn.Module:
    return nn.MaxPool2d(3, 1, 1)


def avg_pool_3x3(c: int) -> nn.Module:
    return nn.AvgPool2d(3, 1, 1, count_include_pad=False)


def skip_connect(c: int) -> nn.Module:
    return nn.Identity()


OPS: dict[str, OpFactory] = {
    "conv_1x1": conv_1x1,
    "sep_conv_3x3": sep_conv(3),
    "sep_conv_5x5": sep_conv(5),
    "sep_conv_7x7": sep_conv(7),
    "dil_conv_3x3": sep_conv(3, 2),
    "dil_conv_3x3_3": sep_conv(3, 3),
    "dil_conv_5x5": sep_conv(5, 2),
    "conv_1x3_3x1": asym_conv(3),
    "conv_1x5_5x1": asym_conv(5),
    "max_pool_3x3": max_pool_3x3,
    "avg_pool_3x3": avg_pool_3x3,
    "skip_connect": skip_connect,
}

# lightDSFD ``BiFPN_PRIMITIVES``: the ops an AutoFEM-FPN path may take
FPN_PRIMITIVES = ("conv_1x1", "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_3x3_3", "dil_conv_5x5")
# the rest of ``operations.py``, the CPM space [ours: lightDSFD defines them but never publishes a CPM search]
CPM_PRIMITIVES = ("skip_connect", "max_pool_3x3", "avg_pool_3x3", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7",
                  "dil_conv_3x3", "dil_conv_3x3_3", "dil_conv_5x5", "conv_1x3_3x1", "conv_1x5_5x1")


def make_op(name: str, channels: int) -> nn.Module:
    """The op ``name`` for ``channels``; ValueError naming the known ops otherwise."""
    if name not in OPS:
        raise ValueError(f"unknown AutoFEM op {name!r}; known: {', '.join(OPS)}")
    return OPS[name](channels)
