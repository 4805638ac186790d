"""ASFD's AutoFEM neck built from a genotype: AutoFEM-FPN cells, then one AutoFEM-CPM cell per level.

AutoFEM-FPN (spec families.md §3.2, lightDSFD ``bi_fpn.py``), on ``L`` maps ``f_1..f_L`` of ``C`` channels::

    td_L = f_L;  td_i = OP_td_i(up_bilinear(td_{i+1} -> f_i, align_corners=True) * f_i)    i = L-1 .. 1
    du_1 = f_1;  du_i = OP_du_i(maxpool3x3s2(du_{i-1}) * f_i)                              i = 2 .. L
    out_i = Conv1x1_bias(sum_k softmax(w_i)_k * [td_i, du_i, OP_same_i(f_i)]_k)   (level 1: no du; level L: no td)

AutoFEM-CPM (spec §3.3): a DARTS cell per level; node 0 is the level's map, node ``j`` sums its edges
``op(node_src)``; the cell's output is the concat of the *leaf* nodes (those no other node reads).

Choices [ours] (the CPM genotypes and sizes are unpublished), each a setting:
- ``cpm_channels``: the cell runs at its own width — a 1x1 conv in (``C -> c``) and the leaf concat
  projected back (1x1 with bias, ``n_leaf * c -> C``), so a preset can trade CPM cost for width.
- ``fpn_repeats``: AutoFEM-FPN cells stacked (each its own weights), as the D-ladder's larger models.
- A genotype is data: :class:`Genotype` reads and writes JSON; the ``op`` hook builds each op slot, which
  is how the search (``search/darts.py``) puts its mixed ops into the same wiring.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from .autofem_ops import CPM_PRIMITIVES, FPN_PRIMITIVES, make_op

OpBuilder = Callable[[str, int], nn.Module]
Edge = tuple[str, int]  # (op name, source node)


@dataclass(frozen=True)
class FPNLevel:
    """The three op slots of one AutoFEM-FPN level (``td`` is None on the coarsest, ``du`` on the finest)."""

    td: str | None
    du: str | None
    same: str = "conv_1x1"

    def paths(self) -> tuple[str, ...]:
        return tuple(p for p, op in (("td", self.td), ("du", self.du), ("same", self.same)) if op is not None)


@dataclass(frozen=True)
class Genotype:
    """AutoFEM architecture: per level an :class:`FPNLevel`, and per level a CPM cell (one edge list per
    node, each edge ``(op, source node)``; node 0 is the input) or ``cpm=None`` (no CPM)."""

    fpn: tuple[FPNLevel, ...]
    cpm: tuple[tuple[tuple[Edge, ...], ...], ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.fpn)
        if n < 2:
            raise ValueError(f"an AutoFEM-FPN genotype needs at least 2 levels, got {n}")
        for i, lv in enumerate(self.fpn):
            if (lv.td is None) != (i == n - 1) or (lv.du is None) != (i == 0):
                raise ValueError(f"genotype fpn level {i}: td is absent on the last level only and du on the "
                                 f"first level only, got td={lv.td!r} du={lv.du!r}")
            for op in (lv.td, lv.du, lv.same):
                if op is not None and op not in FPN_PRIMITIVES:
                    raise ValueError(f"genotype fpn level {i}: {op!r} is not an FPN op ({', '.join(FPN_PRIMITIVES)})")
        if self.cpm is None:
            return
        if len(self.cpm) != n:
            raise ValueError(f"genotype cpm has {len(self.cpm)} cells for {n} levels")
        for i, cell in enumerate(self.cpm):
            if not cell:
                raise ValueError(f"genotype cpm level {i}: a cell needs at least one node")
            for j, edges in enumerate(cell, start=1):
                if not edges:
                    raise ValueError(f"genotype cpm level {i} node {j}: no input edge")
                for op, src in edges:
                    if op not in CPM_PRIMITIVES:
                        raise ValueError(f"genotype cpm level {i} node {j}: {op!r} is not a CPM op "
                                         f"({', '.join(CPM_PRIMITIVES)})")
                    if not 0 <= src < j:
                        raise ValueError(f"genotype cpm level {i} node {j}: source {src} must be an earlier node "
                                         f"(0..{j - 1})")

    @property
    def num_levels(self) -> int:
        return len(self.fpn)

    def to_dict(self) -> dict[str, Any]:
        fpn = [{k: v for k, v in (("td", lv.td), ("du", lv.du), ("same", lv.same)) if v is not None}
               for lv in self.fpn]
        cpm = None if self.cpm is None else [[[list(e) for e in node] for node in cell] for cell in self.cpm]
        return {"fpn": fpn, "cpm": cpm}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Genotype:
        try:
            fpn = tuple(FPNLevel(lv.get("td"), lv.get("du"), lv.get("same", "conv_1x1")) for lv in d["fpn"])
            raw = d.get("cpm")
            cpm = None if raw is None else tuple(
                tuple(tuple((str(op), int(src)) for op, src in node) for node in cell) for cell in raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not an AutoFEM genotype ({type(exc).__name__}: {exc})") from None
        return cls(fpn, cpm)

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            from ...atomic import write_text_atomic

            write_text_atomic(path, text + "\n")
        return text

    @classmethod
    def from_json(cls, path: str | Path) -> Genotype:
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{p}: not a genotype JSON file ({exc})") from None
        try:
            return cls.from_dict(data)
        except ValueError as exc:
            raise ValueError(f"{p}: {exc}") from None


def leaf_nodes(cell: Sequence[Sequence[Edge]]) -> list[int]:
    """Nodes (1-based) that no later node reads: the cell's output ("cat_leaf")."""
    used = {src for edges in cell for _, src in edges}
    return [j for j in range(1, len(cell) + 1) if j not in used]


class AutoFEMFPNCell(nn.Module):
    """One AutoFEM-FPN cell over ``L`` maps of ``channels`` (see the module docstring)."""

    def __init__(self, channels: int, levels: Sequence[FPNLevel], op: OpBuilder = make_op) -> None:
        super().__init__()
        self.levels = tuple(levels)
        self.td = nn.ModuleList(nn.Identity() if lv.td is None else op(lv.td, channels) for lv in self.levels)
        self.du = nn.ModuleList(nn.Identity() if lv.du is None else op(lv.du, channels) for lv in self.levels)
        self.same = nn.ModuleList(op(lv.same, channels) for lv in self.levels)
        self.fuse_weights = nn.ParameterList(nn.Parameter(1e-3 * torch.randn(len(lv.paths()))) for lv in self.levels)
        self.out = nn.ModuleList(nn.Conv2d(channels, channels, 1) for _ in self.levels)

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        n = len(self.levels)
        if len(feats) != n:
            raise ValueError(f"AutoFEM-FPN cell built for {n} levels got {len(feats)} maps")
        td: list[torch.Tensor] = [feats[-1]] * n
        for i in range(n - 2, -1, -1):
            up = F.interpolate(td[i + 1], size=feats[i].shape[-2:], mode="bilinear", align_corners=True)
            td[i] = self.td[i](up * feats[i])
        du: list[torch.Tensor] = [feats[0]] * n
        for i in range(1, n):
            down = F.max_pool2d(du[i - 1], 3, 2, 1)
            if down.shape[-2:] != feats[i].shape[-2:]:
                down = F.interpolate(down, size=feats[i].shape[-2:], mode="nearest")
            du[i] = self.du[i](down * feats[i])
        outs = []
        for i, lv in enumerate(self.levels):
            by_name = {"td": td[i], "du": du[i], "same": self.same[i](feats[i])}
            w = torch.softmax(self.fuse_weights[i], dim=0)
            fused = sum(w[k] * by_name[p] for k, p in enumerate(lv.paths()))
            outs.append(self.out[i](fused))
        return outs


class CPMCell(nn.Module):
    """One AutoFEM-CPM cell: 1x1 in to ``cell_channels``, the DARTS nodes, concat of the leaves, 1x1 out."""

    def __init__(self, channels: int, cell_channels: int, nodes: Sequence[Sequence[Edge]],
                 op: OpBuilder = make_op) -> None:
        super().__init__()
        self.nodes = tuple(tuple(edges) for edges in nodes)
        self.leaves = leaf_nodes(self.nodes)
        self.inp = nn.Sequential(nn.Conv2d(channels, cell_channels, 1, bias=False), nn.BatchNorm2d(cell_channels))
        self.edges = nn.ModuleList(nn.ModuleList(op(name, cell_channels) for name, _ in edges) for edges in self.nodes)
        self.out = nn.Conv2d(cell_channels * len(self.leaves), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [self.inp(x)]
        for edges, ops in zip(self.nodes, self.edges, strict=True):
            mods = cast(nn.ModuleList, ops)
            states.append(sum(m(states[src]) for (_, src), m in zip(edges, mods, strict=True)))
        return self.out(torch.cat([states[j] for j in self.leaves], dim=1))


class AutoFEM(nn.Module):
    """``fpn_repeats`` AutoFEM-FPN cells, then (when the genotype has one) a CPM cell per level."""

    def __init__(self, channels: int, genotype: Genotype, fpn_repeats: int = 1, cpm_channels: int | None = None,
                 op: OpBuilder = make_op) -> None:
        super().__init__()
        if fpn_repeats < 1:
            raise ValueError(f"fpn_repeats must be >= 1, got {fpn_repeats}")
        self.genotype = genotype
        self.fpn = nn.ModuleList(AutoFEMFPNCell(channels, genotype.fpn, op) for _ in range(fpn_repeats))
        c = cpm_channels or channels
        self.cpm = None if genotype.cpm is None else nn.ModuleList(CPMCell(channels, c, cell, op)
                                                                     for cell in genotype.cpm)

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        x = list(feats)
        for cell in self.fpn:
            x = cell(x)
        if self.cpm is not None:
            x = [m(f) for m, f in zip(self.cpm, x, strict=True)]
        return x
