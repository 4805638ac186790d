"""Import insightface's official SCRFD ONNX exports into our PyTorch :class:`SCRFD` modules.

Mapping (strict): the ONNX ``Conv`` nodes in graph order are paired one-to-one with our conv
*calls* in forward order (the shared head's convs are called once per level, so they pair with 3
nodes that must share one initializer). Every pair must agree on weight shape, groups, stride and
padding; initializers that kept their mmdet names must equal our state-dict key. Then, per conv:

- ONNX ``Reshape -> InstanceNormalization -> Reshape -> Mul -> Add`` after the conv (GroupNorm as
  exported): groups and epsilon are checked, the Mul/Add constants become GN weight/bias;
- ONNX ``BatchNormalization`` after the conv: loaded as is;
- ONNX conv with a bias while our conv is followed by BatchNorm (onnx-simplifier folded the BN):
  the folded weight goes into our conv and the BN is *un-folded*: with per-channel mean ``m`` and
  variance ``v`` of the folded conv's output (measured on ``calibration`` images, or m=0, v=1-eps
  without them) we set ``running_mean=m, running_var=v, weight=sqrt(v+eps), bias=b+m``. Eval
  output is exactly the folded conv; in training the batch statistics are close to the running
  ones, so fine-tuning starts from the official behaviour (an identity BN would not);
- ``Mul`` by a scalar after the i-th reg conv call: ``Scale`` of level i.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...models.heads import SCRFDHead
from ...models.layers import Scale


@dataclass
class ImportReport:
    """What the importer did: counts of each mapping kind, for logging and tests."""

    convs: int = 0
    folded_bn: int = 0
    bn: int = 0
    gn: int = 0
    scales: int = 0
    named_checked: int = 0
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        bn = "; ".join(self.notes) if self.notes else "identity BN + bias"
        return (f"{self.convs} convs, {self.gn} GN, {self.bn} BN, {self.folded_bn} folded BN ({bn}), "
                f"{self.scales} scales")


class _Graph:
    """ONNX graph helpers: constants (initializers + Constant nodes) and consumers of each tensor."""

    def __init__(self, path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        self.model = onnx.load(str(path))
        g = self.model.graph
        self.path = path
        self.const: dict[str, np.ndarray] = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        for nd in g.node:
            if nd.op_type == "Constant":
                for a in nd.attribute:
                    if a.name == "value":
                        self.const[nd.output[0]] = numpy_helper.to_array(a.t)
        self.nodes = list(g.node)
        self.consumers: dict[str, list[Any]] = {}
        for nd in self.nodes:
            for name in nd.input:
                self.consumers.setdefault(name, []).append(nd)

    def attrs(self, node: Any) -> dict[str, Any]:
        import onnx

        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    def next_op(self, tensor: str) -> Any | None:
        """The single non-``Shape`` consumer of ``tensor`` (None if there are 0 or several)."""
        users = [n for n in self.consumers.get(tensor, []) if n.op_type != "Shape"]
        return users[0] if len(users) == 1 else None

    def const_input(self, node: Any) -> np.ndarray | None:
        vals = [self.const[i] for i in node.input if i in self.const]
        return vals[0] if len(vals) == 1 else None


def _trace_convs(model: nn.Module, size: int) -> list[tuple[str, nn.Conv2d, nn.Module | None]]:
    """Our conv calls in forward order as (module name, conv, norm applied to its output or None).

    Traced on a ``meta``-device copy (shapes only: no arithmetic, no oneDNN kernel set-up).
    """
    meta = copy.deepcopy(model).to("meta").eval()
    names = {m: n for n, m in meta.named_modules()}
    calls: list[list[Any]] = []
    last_out: dict[str, Any] = {}

    def conv_hook(m: nn.Module, args: tuple, out: torch.Tensor) -> None:
        calls.append([names[m], None])
        last_out["t"] = out

    def norm_hook(m: nn.Module, args: tuple) -> None:
        if calls and args[0] is last_out.get("t"):
            calls[-1][1] = names[m]

    for m in meta.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            m.register_forward_pre_hook(norm_hook)
    with torch.no_grad():
        meta(torch.zeros(1, 3, size, size, device="meta"))
    real = dict(model.named_modules())
    return [(n, real[n], real[k] if k is not None else None) for n, k in calls]  # type: ignore[misc]


def _gn_params(g: _Graph, conv_out: str) -> tuple[int, float, np.ndarray, np.ndarray] | None:
    """(groups, eps, gamma, beta) when ``conv_out`` feeds the exported GroupNorm pattern."""
    r1 = g.next_op(conv_out)
    if r1 is None or r1.op_type != "Reshape":
        return None
    inorm = g.next_op(r1.output[0])
    if inorm is None or inorm.op_type != "InstanceNormalization":
        return None
    shape = g.const.get(r1.input[1])
    scale, bias = g.const[inorm.input[1]], g.const[inorm.input[2]]
    if not (np.all(scale == 1) and np.all(bias == 0)):
        raise ValueError(f"{g.path}: InstanceNormalization {inorm.name} has non-trivial affine parameters")
    r2 = g.next_op(inorm.output[0])
    mul = g.next_op(r2.output[0]) if r2 is not None else None
    add = g.next_op(mul.output[0]) if mul is not None else None
    if mul is None or mul.op_type != "Mul" or add is None or add.op_type != "Add":
        raise ValueError(f"{g.path}: unexpected GroupNorm pattern after {conv_out}")
    groups = int(shape[1]) if shape is not None else scale.size
    gamma, beta = g.const_input(mul), g.const_input(add)
    if gamma is None or beta is None:
        raise ValueError(f"{g.path}: GroupNorm affine after {conv_out} is not constant")
    return groups, float(g.attrs(inorm)["epsilon"]), gamma, beta


def _set(param: torch.Tensor, value: np.ndarray, what: str) -> None:
    value = np.asarray(value, dtype=np.float32).reshape(-1) if param.dim() <= 1 else np.asarray(value, np.float32)
    if tuple(value.shape) != tuple(param.shape) and value.size == param.numel():
        value = value.reshape(param.shape)
    if tuple(value.shape) != tuple(param.shape):
        raise ValueError(f"{what}: ONNX shape {value.shape} != ours {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.array(value, dtype=np.float32, copy=True)))


def import_scrfd_onnx(
    model: nn.Module, onnx_path: str | Path, calibration: torch.Tensor | None = None
) -> ImportReport:
    """Load the official SCRFD ONNX weights at ``onnx_path`` into ``model`` (in place; model left in eval).

    ``calibration``: optional normalised images (B, 3, H, W) used to un-fold folded BatchNorms
    (see module docstring); without them folded BNs become identity + bias (eval-exact either way).
    """
    path = Path(onnx_path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX file not found: {path}")
    g = _Graph(path)
    state_keys = set(model.state_dict())
    ours = _trace_convs(model, 64)
    onnx_convs = [nd for nd in g.nodes if nd.op_type == "Conv"]
    if len(ours) != len(onnx_convs):
        raise ValueError(f"{path}: {len(onnx_convs)} Conv nodes but the model makes {len(ours)} conv calls; "
                         "wrong preset for this file?")
    rep = ImportReport()
    seen: dict[nn.Module, str] = {}
    folded: dict[nn.BatchNorm2d, None] = {}
    reg_calls: dict[nn.Module, int] = {}
    head = getattr(model, "bbox_head", None)
    if not isinstance(head, SCRFDHead):
        raise ValueError(f"{path}: {type(model).__name__} has no SCRFD head (bbox_head) to import into")
    reg_convs = set(head.stride_reg.values())
    for (name, conv, norm), node in zip(ours, onnx_convs, strict=True):
        wname = node.input[1]
        if conv in seen:  # shared module called again: must be the same initializer
            if seen[conv] != wname:
                raise ValueError(f"{path}: {name} is shared but ONNX uses {seen[conv]} and {wname}")
        else:
            seen[conv] = wname
            at = g.attrs(node)
            w = g.const[wname]
            if (tuple(w.shape) != tuple(conv.weight.shape) or at.get("group", 1) != conv.groups
                    or tuple(at.get("strides", (1, 1))) != conv.stride
                    or tuple(at.get("pads", (0, 0, 0, 0)))[:2] != conv.padding):
                raise ValueError(f"{path}: Conv node {node.name or wname} {tuple(w.shape)} does not match {name} "
                                 f"{tuple(conv.weight.shape)}")
            if wname.endswith(".weight") and wname in state_keys:
                if wname != f"{name}.weight":
                    raise ValueError(f"{path}: initializer {wname} paired with our {name}")
                rep.named_checked += 1
            _set(conv.weight, w, name)
            rep.convs += 1
            bias = g.const[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            if conv.bias is not None:
                if bias is None:
                    raise ValueError(f"{path}: {name} has a bias but ONNX conv {wname} has none")
                _set(conv.bias, bias, f"{name}.bias")
            elif isinstance(norm, nn.BatchNorm2d):
                nxt = g.next_op(node.output[0])
                if nxt is not None and nxt.op_type == "BatchNormalization":
                    mean, var = _bn_stats(norm)
                    for p, i in ((norm.weight, 1), (norm.bias, 2), (mean, 3), (var, 4)):
                        _set(p, g.const[nxt.input[i]], f"{name} BN")
                    rep.bn += 1
                elif bias is not None:
                    mean, var = _bn_stats(norm)
                    _set(norm.bias, bias, f"{name} folded bias")
                    with torch.no_grad():
                        norm.weight.fill_(1.0)
                        mean.zero_()
                        var.fill_(1.0 - norm.eps)
                    folded[norm] = None
                    rep.folded_bn += 1
                else:
                    raise ValueError(f"{path}: no BatchNorm and no folded bias for {name}")
            elif isinstance(norm, nn.GroupNorm):
                gn = _gn_params(g, node.output[0])
                if gn is None:
                    raise ValueError(f"{path}: {name} is followed by GroupNorm in our model, not in ONNX")
                groups, eps, gamma, beta = gn
                if groups != norm.num_groups or abs(eps - norm.eps) > 1e-9:
                    raise ValueError(f"{path}: GN groups/eps {groups}/{eps} != ours {norm.num_groups}/{norm.eps}")
                _set(norm.weight, gamma, f"{name} GN weight")
                _set(norm.bias, beta, f"{name} GN bias")
                rep.gn += 1
            elif bias is not None and np.any(bias != 0):
                raise ValueError(f"{path}: ONNX conv {wname} has a bias our {name} lacks")
        if conv in reg_convs:
            level = reg_calls.get(conv, 0) if head.shared else head.strides.index(_level_stride(head, conv))
            reg_calls[conv] = reg_calls.get(conv, 0) + 1
            nxt = g.next_op(node.output[0])
            factor = g.const_input(nxt) if nxt is not None and nxt.op_type == "Mul" else None
            if head.scales is not None:
                if factor is None or np.asarray(factor).size != 1:
                    raise ValueError(f"{path}: no scalar Scale after reg conv of level {level}")
                scale = head.scales[level]
                assert isinstance(scale, Scale)
                _set(scale.scale, np.asarray(factor, np.float32).reshape(()), f"scale {level}")
                rep.scales += 1
            elif factor is not None:
                raise ValueError(f"{path}: ONNX scales reg of level {level} but the model has no Scale")
    if calibration is not None and folded:
        _unfold_bn(model, list(folded), calibration)
        rep.notes.append(f"un-folded {len(folded)} BatchNorms with {calibration.shape[0]} calibration images")
    model.eval()
    return rep


def guess_preset(onnx_path: str | Path) -> str:
    """The SCRFD preset whose conv calls match the export's Conv nodes shape for shape (e.g. for
    insightface's ``det_500m.onnx`` / ``det_10g.onnx`` package files); ValueError if none does."""
    from .presets import PRESETS

    g = _Graph(Path(onnx_path))
    shapes = [tuple(g.const[nd.input[1]].shape) for nd in g.nodes if nd.op_type == "Conv"]
    for name, build in PRESETS.items():
        with torch.device("meta"):
            model = build()
        if [tuple(c.weight.shape) for _, c, _ in _trace_convs(model, 64)] == shapes:
            return name
    raise ValueError(f"{onnx_path}: no SCRFD preset matches its {len(shapes)} Conv nodes")


def _bn_stats(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Running mean and variance of a BatchNorm that tracks them (ValueError otherwise)."""
    if norm.running_mean is None or norm.running_var is None:
        raise ValueError("BatchNorm without running statistics")
    return norm.running_mean, norm.running_var


def _level_stride(head: SCRFDHead, conv: nn.Module) -> int:
    for i in range(len(head.strides)):
        if head.stride_reg[head.level_key(i)] is conv:
            return head.strides[i]
    raise ValueError("reg conv not found in head")


def _unfold_bn(model: nn.Module, norms: list[nn.BatchNorm2d], images: torch.Tensor) -> None:
    """Give folded (identity) BNs the statistics of their input so train mode starts near eval."""
    stats: dict[nn.Module, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(m: nn.Module, args: tuple) -> None:
        x = args[0].transpose(0, 1).reshape(args[0].shape[1], -1).double()
        stats[m] = (x.mean(1), x.var(1, unbiased=False))

    handles = [n.register_forward_pre_hook(hook) for n in norms]
    try:
        with torch.no_grad():
            model.eval()(images)
    finally:
        for h in handles:
            h.remove()
    with torch.no_grad():
        for n in norms:
            if n not in stats:
                continue
            mean, var = stats[n]
            running_mean, running_var = _bn_stats(n)
            running_mean.copy_(mean.float())
            running_var.copy_(var.float())
            n.weight.copy_(torch.sqrt(var + n.eps).float())
            n.bias.add_(mean.float())
