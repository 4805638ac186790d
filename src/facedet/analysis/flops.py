"""Parameter and MAC counting with forward hooks, in the convention of the SCRFD/mmcv tables.

``macs`` follows mmcv's ``get_model_complexity_info`` (what the papers call FLOPs): a conv
multiply-accumulate counts 1, plus 1 per output element for a bias, 2 x numel for each affine
BN/GN (1 x if not affine), output numel per ReLU, input numel per max/avg pool; ``F.interpolate``,
element-wise adds and ``Scale`` are not counted. ``conv_macs`` is the pure conv/linear MAC count.
Modules called several times (SCRFD's shared head) are counted at every call.

Counting runs on a ``meta``-device copy by default: shapes only, no arithmetic, so even SCRFD-34G
counts in milliseconds; ``device="cpu"`` runs a real forward and gives the same numbers.
"""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
_ACTS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU)


@dataclass
class Complexity:
    """Totals plus per-module ``macs`` keyed by the module's qualified name."""

    params: int
    macs: int
    conv_macs: int
    input_size: tuple[int, int]  # (W, H)
    per_module: dict[str, int] = field(default_factory=dict)

    def by_prefix(self, prefixes: list[str]) -> dict[str, int]:
        """MACs summed over modules whose name starts with each prefix (e.g. ``backbone.layer1``)."""
        return {p: sum(v for k, v in self.per_module.items() if k == p or k.startswith(p + ".")) for p in prefixes}


def _module_macs(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    """(mmcv-style MACs, pure conv/linear MACs) of one call of a leaf module."""
    if isinstance(m, nn.Conv2d):
        kh, kw = m.kernel_size
        per_out = kh * kw * m.in_channels // m.groups
        conv = out.numel() * per_out
        return conv + (out.numel() if m.bias is not None else 0), conv
    if isinstance(m, nn.Linear):
        conv = out.numel() * m.in_features
        return conv + (out.numel() if m.bias is not None else 0), conv
    if isinstance(m, _NORMS):
        affine = getattr(m, "affine", False) or getattr(m, "elementwise_affine", False)
        return inp.numel() * (2 if affine else 1), 0
    if isinstance(m, _ACTS):
        return out.numel(), 0
    if isinstance(m, _POOLS):
        return inp.numel(), 0
    if isinstance(m, nn.Upsample):
        return out.numel(), 0
    return 0, 0


def _copy_to(model: nn.Module, device: str) -> nn.Module:
    """A copy of ``model`` on ``device``; for ``meta`` the weights are not cloned first (34G: 40 MB)."""
    if device != "meta":
        return copy.deepcopy(model).to(device)
    memo: dict[int, object] = {}
    for p in model.parameters():
        memo[id(p)] = nn.Parameter(torch.empty_like(p, device="meta"), requires_grad=p.requires_grad)
    for b in model.buffers():
        memo[id(b)] = torch.empty_like(b, device="meta")
    return copy.deepcopy(model, memo)


@contextlib.contextmanager
def skip_init() -> Iterator[None]:
    """Inside, every ``torch.nn.init.*_`` function leaves its tensor as allocated: a model built to be
    counted (a search draws thousands) skips the random initialisation, which dominates its build."""
    names = [n for n in dir(nn.init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(nn.init, n) for n in names}

    def keep(tensor: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        return tensor

    try:
        for n in names:
            setattr(nn.init, n, keep)
        yield
    finally:
        for n, f in saved.items():
            setattr(nn.init, n, f)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def count_complexity(
    model: nn.Module, size: tuple[int, int] = (640, 480), device: str = "meta", copy: bool = True
) -> Complexity:
    """Params and MACs of ``model`` on one (3, H, W) image, ``size`` = (W, H); default 640x480 (VGA).

    ``copy=False`` counts ``model`` itself, which must already be on ``device``; on ``meta`` its norms
    are left as identities afterwards (for a throw-away model: a search's draws skip the copy)."""
    w, h = size
    params = sum(p.numel() for p in model.parameters())
    net = (_copy_to(model, device) if copy else model).eval()
    if device == "meta":  # norms keep the shape; torch's meta batch_norm is slow Python (~1.5 ms a call)
        for mod in net.modules():
            if isinstance(mod, _NORMS):
                mod.forward = _identity  # type: ignore[method-assign]
    per_module: dict[str, int] = defaultdict(int)
    totals = [0, 0]
    handles = []
    for name, mod in net.named_modules():
        if next(mod.children(), None) is not None:
            continue

        def hook(m: nn.Module, args: tuple, out: torch.Tensor, name: str = name) -> None:
            macs, conv = _module_macs(m, args[0], out)
            per_module[name] += macs
            totals[0] += macs
            totals[1] += conv

        handles.append(mod.register_forward_hook(hook))
    try:
        with torch.no_grad():
            net(torch.zeros(1, 3, h, w, device=device))
    finally:
        for handle in handles:
            handle.remove()
    return Complexity(params, totals[0], totals[1], (w, h), dict(per_module))


def count_built(build: Callable[[], nn.Module], size: tuple[int, int] = (640, 480)) -> Complexity:
    """Count a model ``build()`` makes only to be counted: built on the meta device without its random
    initialisation and counted in place, no copy (a search's draws: 1,434 at 2.5 GMACs took 42 s, ~30 ms each)."""
    with skip_init(), torch.device("meta"):
        model = build()
    return count_complexity(model, size, copy=False)


def scrfd_breakdown(c: Complexity) -> dict[str, int]:
    """SCRFD's stem / layer1..4 / neck / head MAC split (spec §1.1 table columns)."""
    parts = c.by_prefix(["backbone.stem", "backbone.maxpool", "backbone.layer1", "backbone.layer2",
                         "backbone.layer3", "backbone.layer4", "neck", "bbox_head"])
    parts["backbone.stem"] += parts.pop("backbone.maxpool")
    return parts


def module_breakdown(c: Complexity) -> dict[str, int]:
    """MACs per top-level sub-module (``backbone``, ``neck``, ``head`` ...), in call order; parts that
    count none (e.g. a max-out) are left out."""
    parts: dict[str, int] = {}
    for name, macs in c.per_module.items():
        top = name.split(".", 1)[0]
        parts[top] = parts.get(top, 0) + macs
    return {k: v for k, v in parts.items() if v}
