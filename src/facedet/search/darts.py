"""Differentiable architecture search (DARTS, PC-DARTS) with ASFD's single-path trick (spec families.md §3.4).

The parts, all family-free:

- :class:`GumbelOneHot` / :func:`gumbel_one_hot`: the forward pass is the one-hot of
  ``argmax(softmax(α + g))`` with tiny noise ``g = -1e-3 log(-log U)``; the backward pass is the
  straight-through surrogate ``∂α = p (1 - p) · grad · n_ops`` (``p = softmax(α + g)``), as lightDSFD's
  ``operations.py::_GumbelSoftMax`` (a diagonal surrogate, not softmax's Jacobian: only the selected op's
  α receives a gradient, ``p (1 - p) n <op(x), ∂L/∂y>``).
- :class:`MixedOp`: PC-DARTS partial channels: the first ``C / partial`` channels go through the ops, the
  rest bypass, then a channel shuffle (``groups = partial``); only the ops with a non-zero weight run, so a
  one-hot weight runs one op and the output is ``w_k · op_k(x)`` (the product carries the gradient to α).
- :class:`ArchParameters`: every α (one vector per op slot) and β (PC-DARTS edge normalisation, one vector
  per node) of a supernet, by key, with the noise generator; :class:`SearchSlot` is one op slot reading
  its α from there (slots of repeated cells share one α: the genotype is shared).
- :class:`SearchCPMCell` and :func:`autofem_supernet`: the AutoFEM search space (``models/necks/autofem.py``):
  the FPN wiring of :class:`~facedet.models.necks.autofem.AutoFEMFPNCell` with a searched op in every
  ``td`` / ``du`` slot (``same`` stays ``conv_1x1`` as in the shipped genotype), and per level a DARTS cell
  whose node ``j`` sums mixed-op edges from *all* earlier nodes, weighted by ``softmax(β_j)``.
- :func:`derive_genotype`: argmax op per slot / edge; per CPM node the top-2 incoming edges by
  ``softmax(β)_i · max softmax(α_i)`` (node 1 has one). The supernet's CPM output concatenates every node
  (DARTS's search cell); the derived cell concatenates its leaves ("cat_leaf", spec §3.3).
- :class:`Supernet`: ``arch_parameters()`` apart from ``weight_parameters()``; :class:`DartsTrainer`: the
  engine's :class:`~facedet.engine.trainer.Trainer` whose step is first-order DARTS: after ``warmup``
  steps one Adam step on α / β (lr 0.01, wd 5e-4) on a held-out batch, then every step one SGD step on the
  weights on a training batch. Checkpoints carry the held-out loader position and the noise generator, so
  ``fit(resume=True)`` is bit-exact; ``alpha.jsonl`` logs α and β after every step (rewound on resume) and
  :func:`plot_alpha_trajectory` draws it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from ..engine.trainer import Trainer
from ..models.necks.autofem import AutoFEM, AutoFEMFPNCell, Edge, FPNLevel, Genotype
from ..models.necks.autofem_ops import CPM_PRIMITIVES, FPN_PRIMITIVES, make_op

OpMaker = Callable[[str, int], nn.Module]

__all__ = [
    "ArchParameters", "DartsTrainer", "GumbelOneHot", "MixedOp", "SearchCPMCell", "SearchSlot", "Supernet",
    "autofem_supernet", "channel_shuffle", "derive_genotype", "gumbel_one_hot", "plot_alpha_trajectory",
    "read_alpha_log", "split_held_out",
]


# ---- the single-path one-hot --------------------------------------------------------------------------------


class GumbelOneHot(torch.autograd.Function):
    """``one_hot(argmax softmax(logits))`` over the last dim; backward ``p (1 - p) · grad · n`` (lightDSFD)."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(logits, dim=-1)
        ctx.save_for_backward(p)
        return F.one_hot(p.argmax(dim=-1), p.shape[-1]).to(logits.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (p,) = ctx.saved_tensors
        return p * (1 - p) * grad * p.shape[-1]


def gumbel_noise(shape: Sequence[int], scale: float = 1e-3, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """``-scale · log(-log U)``, U uniform in (0, 1), drawn on the CPU from ``generator`` (reproducible)."""
    u = torch.rand(tuple(shape), generator=generator).clamp_(min=1e-20)
    return (-scale * torch.log(-torch.log(u))).to(device)


def gumbel_one_hot(alpha: torch.Tensor, noise: float = 1e-3, generator: torch.Generator | None = None) -> torch.Tensor:
    """The one-hot of ``argmax(softmax(alpha + g))`` (``noise=0``: no g) with the straight-through backward."""
    logits = alpha if noise == 0 else alpha + gumbel_noise(alpha.shape, noise, generator, alpha.device)
    return GumbelOneHot.apply(logits)


# ---- mixed op -----------------------------------------------------------------------------------------------


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's shuffle: ``(B, g·k, H, W)`` viewed as ``(g, k)`` channels, transposed to ``(k, g)``."""
    b, c, h, w = x.shape
    if c % groups:
        raise ValueError(f"channel_shuffle: {c} channels do not split into {groups} groups")
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class MixedOp(nn.Module):
    """PC-DARTS mixed op over ``primitives`` on ``channels // partial`` channels (the rest bypass, then a
    channel shuffle); ``forward(x, weights)`` runs the ops whose weight is non-zero: one for a one-hot."""

    def __init__(self, channels: int, primitives: Sequence[str], partial: int = 4, make: OpMaker = make_op) -> None:
        super().__init__()
        if partial < 1 or channels % partial:
            raise ValueError(f"partial channels: {channels} channels do not split into 1/{partial}")
        if not primitives:
            raise ValueError("a mixed op needs at least one primitive")
        self.channels, self.partial = channels, partial
        self.primitives = tuple(primitives)
        self.ops = nn.ModuleList(make(p, channels // partial) for p in self.primitives)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if weights.shape != (len(self.ops),):
            raise ValueError(f"mixed op over {len(self.ops)} ops got weights of shape {tuple(weights.shape)}")
        if x.shape[1] != self.channels:
            raise ValueError(f"mixed op built for {self.channels} channels got {x.shape[1]}")
        c = self.channels // self.partial
        part = x[:, :c]
        active = torch.nonzero(weights.detach()).flatten().tolist()
        if not active:
            raise ValueError("mixed op: every weight is zero")
        y = sum(weights[k] * self.ops[k](part) for k in active)
        assert isinstance(y, torch.Tensor)
        if self.partial == 1:
            return y
        return channel_shuffle(torch.cat([y, x[:, c:]], dim=1), self.partial)


# ---- architecture parameters ----------------------------------------------------------------------------------


class ArchParameters(nn.Module):
    """The α of every op slot and β of every CPM node of a supernet (``nn.ParameterDict`` by key), with
    the primitives of each α, the Gumbel noise scale and its generator (seeded by :class:`Supernet`).

    ``layout``: what :func:`derive_genotype` reads (``levels``, ``cpm_nodes``: 0 = no CPM searched)."""

    def __init__(self, levels: int, cpm_nodes: int = 0, noise: float = 1e-3, init_scale: float = 1e-3) -> None:
        super().__init__()
        self.alpha = nn.ParameterDict()
        self.beta = nn.ParameterDict()
        self.primitives: dict[str, tuple[str, ...]] = {}
        self.layout = {"levels": levels, "cpm_nodes": cpm_nodes}
        self.noise, self.init_scale = noise, init_scale
        self.generator = torch.Generator().manual_seed(0)

    def add_alpha(self, key: str, primitives: Sequence[str]) -> str:
        if key not in self.alpha:
            self.alpha[key] = nn.Parameter(self.init_scale * torch.randn(len(primitives)))
            self.primitives[key] = tuple(primitives)
        elif self.primitives[key] != tuple(primitives):
            raise ValueError(f"slot {key} already holds other primitives")
        return key

    def add_beta(self, key: str, n: int) -> str:
        if key not in self.beta:
            self.beta[key] = nn.Parameter(self.init_scale * torch.randn(n))
        return key

    def one_hot(self, key: str) -> torch.Tensor:
        return gumbel_one_hot(self.alpha[key], self.noise, self.generator)

    def edge_weights(self, key: str) -> torch.Tensor:
        return torch.softmax(self.beta[key], dim=-1)

    def probabilities(self) -> dict[str, dict[str, list[float]]]:
        """softmax(α) per slot and softmax(β) per node, as plain floats."""
        with torch.no_grad():
            return {"alpha": {k: torch.softmax(v, -1).tolist() for k, v in self.alpha.items()},
                    "beta": {k: torch.softmax(v, -1).tolist() for k, v in self.beta.items()}}

    def snapshot(self) -> dict[str, dict[str, list[float]]]:
        """The raw α and β (logits), as plain floats."""
        with torch.no_grad():
            return {"alpha": {k: v.tolist() for k, v in self.alpha.items()},
                    "beta": {k: v.tolist() for k, v in self.beta.items()}}


class SearchSlot(nn.Module):
    """One op slot: a :class:`MixedOp` run with the one-hot of its α (read from the shared store, which is
    not a submodule here: it is registered once, on the supernet neck)."""

    def __init__(self, arch: ArchParameters, key: str, channels: int, primitives: Sequence[str],
                 partial: int = 4, make: OpMaker = make_op) -> None:
        super().__init__()
        self.key = arch.add_alpha(key, primitives)
        self.mixed = MixedOp(channels, primitives, partial, make)
        object.__setattr__(self, "_arch", arch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arch: ArchParameters = self.__dict__["_arch"]
        return self.mixed(x, arch.one_hot(self.key))


# ---- the AutoFEM search space --------------------------------------------------------------------------------


def fpn_key(path: str, level: int) -> str:
    return f"fpn_{path}_{level}"


def cpm_alpha_key(level: int, node: int, src: int) -> str:
    return f"cpm{level}_n{node}_s{src}"


def cpm_beta_key(level: int, node: int) -> str:
    return f"cpm{level}_n{node}"


class SearchCPMCell(nn.Module):
    """The CPM search cell of one level: 1x1 in to ``cell_channels``, ``nodes`` nodes (node ``j`` =
    ``Σ_i softmax(β_j)_i · mixed_ij(node_i)`` over every earlier node, node 0 the input), the concat of
    all nodes, 1x1 out (with bias) to ``channels``."""

    def __init__(self, arch: ArchParameters, level: int, channels: int, cell_channels: int, nodes: int = 6,
                 primitives: Sequence[str] = CPM_PRIMITIVES, partial: int = 4) -> None:
        super().__init__()
        if nodes < 1:
            raise ValueError(f"a CPM cell needs at least one node, got {nodes}")
        self.level, self.nodes = level, nodes
        self.inp = nn.Sequential(nn.Conv2d(channels, cell_channels, 1, bias=False), nn.BatchNorm2d(cell_channels))
        self.edges = nn.ModuleList(
            nn.ModuleList(SearchSlot(arch, cpm_alpha_key(level, j, i), cell_channels, primitives, partial)
                          for i in range(j))
            for j in range(1, nodes + 1))
        self.beta_keys = [arch.add_beta(cpm_beta_key(level, j), j) for j in range(1, nodes + 1)]
        self.out = nn.Conv2d(cell_channels * nodes, channels, 1)
        object.__setattr__(self, "_arch", arch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arch: ArchParameters = self.__dict__["_arch"]
        states = [self.inp(x)]
        for key, edges in zip(self.beta_keys, self.edges, strict=True):
            w = arch.edge_weights(key)
            s = sum(w[i] * edge(states[i]) for i, edge in enumerate(cast(nn.ModuleList, edges)))
            assert isinstance(s, torch.Tensor)
            states.append(s)
        return self.out(torch.cat(states[1:], dim=1))


def _template_fpn(levels: int) -> tuple[FPNLevel, ...]:
    return tuple(FPNLevel(td=None if i == levels - 1 else "conv_1x1", du=None if i == 0 else "conv_1x1")
                 for i in range(levels))


def autofem_supernet(channels: int, levels: int = 6, fpn_repeats: int = 1, cpm_channels: int | None = None,
                     cpm_nodes: int = 6, partial: int = 4, fpn_primitives: Sequence[str] = FPN_PRIMITIVES,
                     cpm_primitives: Sequence[str] = CPM_PRIMITIVES, noise: float = 1e-3) -> AutoFEM:
    """An :class:`AutoFEM` neck whose FPN ``td`` / ``du`` slots are :class:`SearchSlot` s (α shared by the
    ``fpn_repeats`` cells; ``same`` is ``conv_1x1``) and, unless ``cpm_nodes=0``, one :class:`SearchCPMCell`
    per level; its :class:`ArchParameters` is the neck's ``arch`` attribute."""
    arch = ArchParameters(levels, cpm_nodes, noise)
    fem = AutoFEM(channels, Genotype(_template_fpn(levels), None), fpn_repeats, cpm_channels)
    fem.arch = arch
    for cell in fem.fpn:
        assert isinstance(cell, AutoFEMFPNCell)
        for i in range(levels):
            if i < levels - 1:
                cell.td[i] = SearchSlot(arch, fpn_key("td", i), channels, fpn_primitives, partial)
            if i > 0:
                cell.du[i] = SearchSlot(arch, fpn_key("du", i), channels, fpn_primitives, partial)
    if cpm_nodes:
        c = cpm_channels or channels
        fem.cpm = nn.ModuleList(SearchCPMCell(arch, i, channels, c, cpm_nodes, cpm_primitives, partial)
                                for i in range(levels))
    return fem


def derive_genotype(arch: ArchParameters, keep: int = 2) -> Genotype:
    """The genotype of ``arch``: argmax op per FPN slot (``same``: conv_1x1); per CPM node the ``keep``
    incoming edges of highest ``softmax(β)_i · max softmax(α_i)`` (fewer when the node has fewer), each
    with its argmax op, listed by source. Validated by :class:`Genotype`."""
    levels, nodes = arch.layout["levels"], arch.layout["cpm_nodes"]

    def best(key: str) -> tuple[str, float]:
        p = torch.softmax(arch.alpha[key].detach(), -1)
        k = int(p.argmax())
        return arch.primitives[key][k], float(p[k])

    fpn = tuple(FPNLevel(td=None if i == levels - 1 else best(fpn_key("td", i))[0],
                         du=None if i == 0 else best(fpn_key("du", i))[0]) for i in range(levels))
    if not nodes:
        return Genotype(fpn, None)
    cells = []
    for lv in range(levels):
        cell: list[tuple[Edge, ...]] = []
        for j in range(1, nodes + 1):
            beta = torch.softmax(arch.beta[cpm_beta_key(lv, j)].detach(), -1)
            scored = []
            for i in range(j):
                op, p = best(cpm_alpha_key(lv, j, i))
                scored.append((float(beta[i]) * p, i, op))
            top = sorted(scored, key=lambda t: (-t[0], t[1]))[:keep]
            cell.append(tuple((op, i) for _, i, op in sorted(top, key=lambda t: t[1])))
        cells.append(tuple(cell))
    return Genotype(fpn, tuple(cells))


class Supernet:
    """The search view of a model holding one :class:`ArchParameters` (e.g. a detector whose neck is an
    :func:`autofem_supernet`): architecture parameters apart from weights, and the genotype they derive."""

    def __init__(self, model: nn.Module, seed: int = 0) -> None:
        stores = [m for m in model.modules() if isinstance(m, ArchParameters)]
        if len(stores) != 1:
            raise ValueError(f"a supernet holds exactly one ArchParameters module, {type(model).__name__} has "
                             f"{len(stores)}")
        self.model, self.arch = model, stores[0]
        self.arch.generator.manual_seed(seed)
        self._arch_ids = {id(p) for p in self.arch.parameters()}

    def arch_parameters(self) -> list[nn.Parameter]:
        return list(self.arch.parameters())

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.model.parameters() if id(p) not in self._arch_ids]

    def is_arch(self, p: torch.Tensor) -> bool:
        return id(p) in self._arch_ids

    def derive_genotype(self, keep: int = 2) -> Genotype:
        return derive_genotype(self.arch, keep)


def split_held_out(records: Sequence[Any], every: int) -> tuple[list[Any], list[Any]]:
    """``(train, held_out)``: every ``every``-th record (1-based: the ``every``-th, ``2·every``-th, ...) is
    held out, deterministically (``every=2``: DARTS's half-half split)."""
    if every < 2:
        raise ValueError(f"held-out split: every must be >= 2 (1 would leave no training image), got {every}")
    held = [r for i, r in enumerate(records) if (i + 1) % every == 0]
    train = [r for i, r in enumerate(records) if (i + 1) % every != 0]
    return train, held


def split_groups(groups: Sequence[Sequence[Any]], every: int, repeats: Sequence[int] = (), min_short_side: int = 32
                 ) -> tuple[list[Any], list[Any]]:
    """``(train, held_out)`` of several data sets: each set is split (every ``every``-th trainable image held
    out) BEFORE ``data.repeats`` copies it, so no image is on both sides of the bilevel split."""
    from ..data.loader import mix_records, trainable

    parts = [split_held_out(trainable(list(g), min_short_side), every) for g in groups]
    return mix_records([t for t, _ in parts], repeats), mix_records([h for _, h in parts], repeats)


# ---- the search loop -----------------------------------------------------------------------------------------


def _arch_adam(lr: float, weight_decay: float) -> Callable[..., torch.optim.Optimizer]:
    def make(params: Any, tc: Any) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), weight_decay=weight_decay)
    return make


class _AlphaLog:
    """``alpha.jsonl``: one line ``{"step", "alpha": {key: logits}, "beta": {key: logits}}`` per logged step."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, step: int, arch: ArchParameters) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(json.dumps({"step": step, **arch.snapshot()}) + "\n")

    def rewind(self, step: int) -> None:
        if not self.path.is_file():
            return
        from ..atomic import write_text_atomic

        lines = [ln for ln in self.path.read_text().splitlines() if ln.strip()]
        rows = _parse_rows(lines)
        keep = [ln for ln, row in zip(lines, rows, strict=True) if row is not None and row["step"] <= step]
        if len(keep) < len(lines):
            write_text_atomic(self.path, "".join(ln + "\n" for ln in keep))


def _parse_rows(lines: Sequence[str]) -> list[dict[str, Any] | None]:
    """Each line's row, or None for a line that does not parse (a write torn by a crash)."""
    out: list[dict[str, Any] | None] = []
    for ln in lines:
        try:
            row = json.loads(ln)
        except json.JSONDecodeError:
            row = None
        out.append(row if isinstance(row, dict) and "step" in row else None)
    return out


def read_alpha_log(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an ``alpha.jsonl`` (see :class:`DartsTrainer`); a torn line (a crash mid-write) is skipped."""
    lines = [ln for ln in Path(path).read_text().splitlines() if ln.strip()]
    return [row for row in _parse_rows(lines) if row is not None]


class DartsTrainer(Trainer):
    """First-order DARTS on the engine's Trainer (``DartsTrainer(model, criterion, cfg, records, held_out,
    out_dir, warmup=, transform=, arch_lr=0.01, arch_weight_decay=5e-4, progress=, seed=)``).

    ``model`` holds one :class:`ArchParameters` (its supernet); the weights train by the run's SGD
    (``train.lr`` / momentum / weight decay, the run's schedule) on ``records``, and from step ``warmup`` on,
    each step first takes one Adam step (betas 0.5 / 0.999 as DARTS, ``arch_lr``, ``arch_weight_decay``)
    on α and β with a batch of ``held_out``. ``train.max_steps`` ends the search; ``seed`` (default
    ``train.seed``) seeds the Gumbel noise. Checkpoints, resume, progress bar and logs are the Trainer's,
    plus ``OUT/alpha.jsonl``.

    Known behaviour: in the single-path forward only the selected op's α gets a loss gradient, and Adam
    normalises the weight-decay gradient of the others to a full step, so unselected α drift towards 0 at
    about ``arch_lr`` per step (measured ±0.01), the size of the loss signal at a CPU budget; GDAS instead
    gives every α a gradient. ``arch_weight_decay=0`` removes the drift. ``train.ema`` is refused here.
    """

    def __init__(self, model: nn.Module, criterion: nn.Module, cfg: Any, records: Sequence[Any],
                 held_out: Sequence[Any], out_dir: str | Path, *, warmup: int, transform: Any,
                 arch_lr: float = 0.01, arch_weight_decay: float = 5e-4, progress: bool = True,
                 seed: int | None = None) -> None:
        from .. import distributed as D
        from ..data.loader import FaceDataset, ResumableBatchSampler, make_loader
        from ..engine.optim import sgd_params, split
        from ..models.detector import as_detector

        if D.is_dist():
            raise ValueError("the differentiable search runs in one process (no torchrun)")
        if getattr(cfg.train, "ema", False):
            raise ValueError("train.ema is not supported by the AutoFEM search (the search step does not update it)")
        self.supernet = Supernet(model, cfg.train.seed if seed is None else seed)
        self.warmup = warmup
        factory = split(lambda _n, p: self.supernet.is_arch(p), sgd_params, _arch_adam(arch_lr, arch_weight_decay))
        super().__init__(model, criterion, cfg, records, out_dir, progress=progress, transform=transform,
                         optimizer=factory)
        self.weight_optimizer, self.arch_optimizer = self.optimizers
        det = as_detector(model)
        tc = cfg.train
        held = FaceDataset(held_out, transform, det.input_mean, det.input_std, det.input_rgb, tc.seed)
        self.held_sampler = ResumableBatchSampler(len(held), tc.batch_size, tc.seed + 1)
        self.held_loader = make_loader(held, self.held_sampler, cfg.data.num_workers)
        self.held_epoch, self.held_batch = 0, 0
        self._held_iter: Iterator[Any] | None = None
        self.alpha_log = _AlphaLog(self.out / "alpha.jsonl")
        self._weights = self.supernet.weight_parameters()

    def fit(self, resume: bool | str | Path = False) -> list[dict[str, Any]]:
        """Search to ``train.max_steps``; a fresh start (no ``resume``) begins a new ``alpha.jsonl``."""
        if not resume:
            self.alpha_log.path.unlink(missing_ok=True)
            self.alpha_log.write(0, self.supernet.arch)
        return super().fit(resume)  # type: ignore[no-any-return]

    # ---- state ----
    def state(self) -> dict[str, Any]:
        s = super().state()
        s["search"] = {"held_epoch": self.held_epoch, "held_batch": self.held_batch,
                       "noise_rng": self.supernet.arch.generator.get_state(), "warmup": self.warmup}
        return s

    def load(self, path: str | Path) -> None:
        from ..engine.checkpoint import load_checkpoint

        super().load(path)
        s = load_checkpoint(path, map_location="cpu").get("search")
        if s is None:
            raise ValueError(f"{path}: not a search checkpoint (no search state)")
        self.held_epoch, self.held_batch = int(s["held_epoch"]), int(s["held_batch"])
        self.supernet.arch.generator.set_state(s["noise_rng"])
        self._held_iter = None
        self.alpha_log.rewind(self.step)

    # ---- step ----
    def _held_out_batch(self) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
        for _ in range(2):
            if self._held_iter is None:
                self.held_sampler.set_epoch(self.held_epoch, self.held_batch)
                self._held_iter = iter(self.held_loader)
            try:
                batch = next(self._held_iter)
            except StopIteration:
                self.held_epoch, self.held_batch, self._held_iter = self.held_epoch + 1, 0, None
                continue
            self.held_batch += 1
            return batch  # type: ignore[no-any-return]
        raise RuntimeError("the held-out loader yields no batch")

    def _losses(self, images: torch.Tensor, targets: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        images = images.to(self.device, non_blocking=True)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.autocast_dtype, enabled=self.autocast):
            outputs = self.model(images)
        losses: dict[str, torch.Tensor] = self.criterion(outputs, targets)
        if not torch.isfinite(losses["loss"]):
            raise FloatingPointError(f"non-finite loss {losses['loss'].item()} at step {self.step}: {losses}")
        return losses

    def _backward_step(self, loss: torch.Tensor, opt: torch.optim.Optimizer, clip: list[nn.Parameter]) -> None:
        for o in self.optimizers:
            o.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if clip and self.cfg.train.grad_clip > 0:
            self.scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(clip, self.cfg.train.grad_clip)
        self.scaler.step(opt)
        self.scaler.update()

    def train_step(self, images: torch.Tensor, targets: list[dict[str, torch.Tensor]]) -> dict[str, float]:
        out: dict[str, float] = {}
        if self.step >= self.warmup:
            held_images, held_targets = self._held_out_batch()
            arch_losses = self._losses(held_images, held_targets)
            self._backward_step(arch_losses["loss"], self.arch_optimizer, [])
            out["arch_loss"] = float(arch_losses["loss"].detach())
        losses = self._losses(images, targets)
        self._backward_step(losses["loss"], self.weight_optimizer, self._weights)
        self.schedule.step()
        self.step += 1
        self.alpha_log.write(self.step, self.supernet.arch)
        return {**{k: float(v.detach()) for k, v in losses.items()}, **out}


# ---- the α plot ----------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    from ..optional import require

    matplotlib = require("matplotlib", "plot", "plotting")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_alpha_trajectory(log: str | Path, primitives: Mapping[str, Sequence[str]], path: str | Path,
                          prefix: str = "fpn_", title: str = "") -> Path:
    """One panel per α slot whose key starts with ``prefix`` (``"fpn_"``: the FPN slots; ``"cpm"``: every
    CPM level, its edges' softmax(α) averaged): softmax probability per op against the step."""
    rows = read_alpha_log(log)
    if not rows:
        raise ValueError(f"{log}: no α logged")
    steps = [r["step"] for r in rows]
    groups: dict[str, list[str]] = {}
    for key in rows[0]["alpha"]:
        if not key.startswith(prefix):
            continue
        group = key.split("_")[0] if prefix.startswith("cpm") else key
        groups.setdefault(group, []).append(key)
    if not groups:
        raise ValueError(f"{log}: no α slot starts with {prefix!r}")
    plt = _pyplot()
    n = len(groups)
    cols = min(n, 5)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.2 * cols, 2.6 * nrows + 0.8), dpi=100, squeeze=False,
                             sharex=True, sharey=True)
    names = list(primitives[next(iter(groups.values()))[0]])
    for ax, (group, keys) in zip(axes.flat, groups.items(), strict=False):
        probs = torch.stack([torch.stack([torch.softmax(torch.tensor(r["alpha"][k]), -1) for k in keys]).mean(0)
                             for r in rows])
        for j, name in enumerate(names):  # ten colours, then the same colours dashed
            ax.plot(steps, probs[:, j].tolist(), label=name, lw=1.2, color=f"C{j % 10}", ls="-" if j < 10 else "--")
        ax.set_title(group if len(keys) == 1 else f"{group} (mean of {len(keys)} edges)", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("softmax(α)")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(names), 6), fontsize=8)
    fig.suptitle(title or f"α trajectory ({prefix.rstrip('_')}), {len(rows)} logged steps", fontsize=10)
    fig.tight_layout(rect=(0, 0.06 + 0.04 * (len(names) > 6), 1, 1))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
