"""Random search under a MACs budget, as SCRFD's released ``generate_configs_*.py``: draw uniformly
from a space, count the model at 640x480, keep a draw when its MACs are within ``eps`` of the target
and the space's own constraint holds, until ``num`` are kept.

Models are built on the ``meta`` device (shapes only) without their random initialisation and
counted in place, so a draw costs some 30 ms at 2.5 GMACs (README, "Search cost"). The draws
come from one ``numpy.random.Generator`` seeded by ``seed``: the same seed writes the same files.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from torch import nn

from ..analysis.flops import Complexity, count_built


@dataclass(frozen=True)
class Draw:
    """One sample of a space: the architecture dict it builds and the raw values drawn."""

    arch: dict[str, Any]
    knobs: dict[str, Any]


class SearchSpace(Protocol):
    """What the driver needs of a family's space (e.g. ``facedet.families.<family>.search_space``)."""

    @property
    def name(self) -> str:
        """The space's name (written into every candidate)."""
        ...

    @property
    def stage(self) -> int:
        """The search stage it belongs to."""
        ...

    def sample(self, rng: np.random.Generator) -> Draw | None:
        """One uniform draw; None when it is rejected before the whole model is counted (it describes
        no buildable model, or a cheap partial count already fails the space's rule)."""
        ...

    def check(self, complexity: Complexity) -> str | None:
        """The space's own acceptance rule beyond the budget; the reason when it fails, else None."""
        ...

    def describe(self) -> dict[str, Any]:
        """The space's ranges and template, as plain data (written beside the candidates)."""
        ...


@dataclass(frozen=True)
class Candidate:
    """An accepted draw with its counts: ``draw`` is the 1-based index of the draw that produced it."""

    arch: dict[str, Any]
    knobs: dict[str, Any]
    macs: int
    params: int
    parts: dict[str, int] = field(default_factory=dict)
    draw: int = 0


def within(value: float, target: float, eps: float) -> bool:
    """``(1 - eps) * target <= value <= (1 + eps) * target`` (the released ``is_flops_valid``)."""
    return (1.0 - eps) * target <= value <= (1.0 + eps) * target


def _draws(space: SearchSpace, build: Callable[[Mapping[str, Any]], nn.Module], rng: np.random.Generator,
           size: tuple[int, int]) -> Iterator[tuple[Draw | None, Complexity | None]]:
    while True:
        d = space.sample(rng)
        if d is None:
            yield None, None
            continue
        yield d, count_built(lambda arch=d.arch: build(arch), size)


def random_search(
    space: SearchSpace, build: Callable[[Mapping[str, Any]], nn.Module], gflops: float, num: int, seed: int = 0,
    eps: float = 0.02, size: tuple[int, int] = (640, 480), max_draws: int = 200_000,
    breakdown: Callable[[Complexity], dict[str, int]] | None = None, progress: bool = True,
) -> list[Candidate]:
    """``num`` accepted candidates: MACs at ``size`` within ``eps`` of ``gflops`` x 1e9 and ``space.check``.

    ValueError after ``max_draws`` draws with fewer accepted (the budget is outside the space).
    """
    if num < 1 or not math.isfinite(gflops) or gflops <= 0 or not 0 < eps < 1:
        raise ValueError(f"need num >= 1, gflops > 0 and 0 < eps < 1 (got {num}, {gflops}, {eps})")
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    target = gflops * 1e9
    out: list[Candidate] = []
    passed = 0  # draws that met the space's own rule (stage 2's ratio rule), whatever their MACs
    bar = tqdm(total=num, desc=f"search {space.name} stage {space.stage}", unit="cand", disable=not progress)
    try:
        for i, (d, c) in enumerate(_draws(space, build, rng, size), start=1):
            if i > max_draws:
                raise ValueError(f"only {len(out)} of {num} candidates within {eps:.0%} of {gflops} GMACs after "
                                 f"{max_draws} draws (the space's rule passed {passed}): the budget is hard to meet "
                                 f"in the {space.name} space; widen --eps or raise --max-draws")
            if d is None or c is None or space.check(c) is not None:
                bar.set_postfix(draws=i, rule=passed, refresh=False)
                continue
            passed += 1
            if not within(c.macs, target, eps):
                bar.set_postfix(draws=i, rule=passed, refresh=False)
                continue
            parts = breakdown(c) if breakdown is not None else {}
            out.append(Candidate(d.arch, d.knobs, c.macs, c.params, parts, i))
            bar.update(1)
            if len(out) == num:
                return out
    finally:
        bar.close()
    raise AssertionError("unreachable")  # the draw loop only ends by return or raise


def check_out(out: str | Path, overwrite: bool = False) -> None:
    """Refuse an ``OUT`` that holds candidates (unless ``overwrite``) or any run of one (always: its
    results would be paired with a new architecture of the same name). Called before searching."""
    d = Path(out)
    if not d.is_dir():
        return
    existing = sorted(d.glob("cand_*.yaml"))
    runs = sorted(p for p in d.glob("cand_*") if p.is_dir())
    if runs:
        raise FileExistsError(f"{d} holds training runs of earlier candidates ({runs[0].name}/ ...): choose another "
                              "--out (or move them away first)")
    if existing and not overwrite:
        raise FileExistsError(f"{d} already holds {len(existing)} candidates ({existing[0].name} ...): "
                              "choose another --out or pass --overwrite")


def write_candidates(out: str | Path, family: str, candidates: list[Candidate], settings: Mapping[str, Any],
                     space: Mapping[str, Any], overwrite: bool = False) -> list[Path]:
    """``OUT/cand_000.yaml`` ... (architecture files: ``settings``, the space's name and stage, the
    counts and the drawn values) plus ``OUT/search.yaml`` (``settings`` and the whole ``space``).

    See :func:`check_out` for what is refused. The set is written into a temporary folder first and
    moved in; ``search.yaml`` comes last, so its presence marks a complete set.
    """
    import yaml

    from ..archfile import dump_arch, to_plain

    check_out(out, overwrite)
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(candidates) - 1)))
    tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=d))
    try:
        names = []
        for k, c in enumerate(candidates):
            search = {**settings, "space": space.get("space"), "stage": space.get("stage"), "index": k,
                      "draw": c.draw, "macs": c.macs, "params": c.params, "parts": c.parts, "knobs": c.knobs}
            name = f"cand_{k:0{width}d}.yaml"
            (tmp / name).write_text(dump_arch(family, c.arch, search))
            names.append(name)
        summary = {"family": family, **settings, "space_settings": space}
        (tmp / "search.yaml").write_text(yaml.safe_dump(to_plain(summary), sort_keys=False, default_flow_style=None))
        (d / "search.yaml").unlink(missing_ok=True)
        for p in d.glob("cand_*.yaml"):
            p.unlink()
        for name in [*names, "search.yaml"]:
            os.replace(tmp / name, d / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [d / n for n in names]
