"""``facedet search collect DIR``: rank trained candidates and draw the search's analysis plots.

Candidate ``DIR/cand_017.yaml`` is trained into ``DIR/cand_017/`` (``facedet train DIR/cand_017.yaml
--out DIR/cand_017 --val ...``); its AP is the **last** evaluated row of ``DIR/cand_017/epochs.csv``
(the released search tests the final model, not the best epoch); a run whose last evaluation is
before its ``train.max_steps`` (when set) or ``train.epochs`` is listed as partial, after the finished
ones. Ranking is by Hard AP, as the released ``search_stat.py``. Plots (SCRFD §3's analysis): AP
against each part's share of the total MACs, one panel per part, and the empirical CDF of AP over
the finished candidates.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..archfile import ArchFile, read_arch_file

METRICS = ("ap_easy", "ap_medium", "ap_hard")


@dataclass
class Result:
    """One candidate: counts from its file, AP from its run (empty when not trained or not evaluated)."""

    name: str
    macs: int
    params: int
    parts: dict[str, int] = field(default_factory=dict)
    ap: dict[str, float] = field(default_factory=dict)
    epoch: float = 0.0
    status: str = "not trained"

    def share(self, part: str) -> float:
        """``part``'s share of the total MACs, in %."""
        return 100.0 * self.parts.get(part, 0) / self.macs if self.macs else 0.0


def last_evaluated(epochs_csv: Path) -> tuple[dict[str, float], float, int]:
    """AP of the last row of ``epochs.csv`` that holds a finite one, its epoch and step (({}, 0, 0) when
    none does); a value that is not a number is a ValueError naming the file and line."""
    rows: list[tuple[dict[str, float], float, int]] = []
    with epochs_csv.open(newline="") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            try:
                ap = {m: float(r[m]) for m in METRICS if r.get(m) not in (None, "")}
                epoch, step = float(r.get("epoch") or 0), int(float(r.get("step") or 0))
            except ValueError as exc:
                raise ValueError(f"{epochs_csv}:{line}: {exc}") from None
            if "ap_hard" in ap and all(math.isfinite(v) for v in ap.values()):
                rows.append((ap, epoch, step))
    return rows[-1] if rows else ({}, 0.0, 0)


def finished(run: Path, epoch: float, step: int) -> tuple[bool, str]:
    """Whether a run's last evaluation is its end: ``train.max_steps`` reached, or ``train.epochs``
    (from its ``config.yaml``; a run without one counts as finished), and the planned length as text."""
    cfg = run / "config.yaml"
    if not cfg.is_file():
        return True, ""
    from ..config import read_yaml

    train = read_yaml(cfg).get("train") or {}
    epochs, max_steps = train.get("epochs"), train.get("max_steps") or 0
    if isinstance(max_steps, int) and max_steps > 0:
        return step >= max_steps, f"{step} of {max_steps} steps"
    if isinstance(epochs, int | float):
        return epoch >= epochs, f"{epoch:g} of {epochs:g} epochs"
    return True, ""


def _counts(spec: ArchFile) -> tuple[int, int, dict[str, int]]:
    """MACs, params and parts of a candidate: from its ``search`` block, else counted now (on the meta device)."""
    search = spec.search
    parts = search.get("parts")
    if isinstance(search.get("macs"), int) and isinstance(search.get("params"), int) and isinstance(parts, dict):
        try:
            return search["macs"], search["params"], {str(k): int(v) for k, v in parts.items()}
        except (TypeError, ValueError):
            pass  # a hand-edited block: count instead
    from ..analysis.flops import count_built
    from ..families import family_named
    from ..zoo import build_model

    c = count_built(lambda: build_model(spec.path))
    breakdown = family_named(spec.family).flops_breakdown
    return c.macs, c.params, breakdown(c) if breakdown is not None else {}


def collect(folder: str | Path, metric: str = "ap_hard") -> list[Result]:
    """Every ``cand_*.yaml`` in ``folder`` with its run's AP, trained ones first by ``metric`` (descending)."""
    if metric not in METRICS:
        raise ValueError(f"--metric must be one of {', '.join(METRICS)}, got {metric!r}")
    d = Path(folder)
    files = sorted(d.glob("cand_*.yaml"))
    if not files:
        raise FileNotFoundError(f"{d}: no cand_*.yaml candidates (write them with `facedet search <family>`)")
    out = []
    for f in files:
        spec = read_arch_file(f)
        macs, params, parts = _counts(spec)
        r = Result(f.stem, macs, params, parts)
        log = d / f.stem / "epochs.csv"
        if (d / f.stem).is_dir() and not log.is_file():
            r.status = "started (no epoch logged yet)"
        if log.is_file():
            r.ap, r.epoch, step = last_evaluated(log)
            if not r.ap:
                r.status = "no AP yet (train with --val)"
            else:
                done, planned = finished(d / f.stem, r.epoch, step)
                r.status = "done" if done else f"partial ({planned})"
        out.append(r)
    # finished runs first (by the metric), then partial ones, then those with no AP
    order = {"done": 0}
    return sorted(out, key=lambda r: (order.get(r.status, 1 if r.ap else 2), -r.ap.get(metric, 0.0), r.name))


def format_table(results: list[Result]) -> str:
    """A Markdown table: rank, candidate, GMACs, params, each part's share of MACs, AP, epoch."""
    parts = list(results[0].parts) if results else []
    short = [p.split(".")[-1] for p in parts]
    head = ["rank", "candidate", "GMACs", "params M", *[f"{s} %" for s in short], "easy", "medium", "hard", "epoch"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, r in enumerate(results, start=1):
        ap = [f"{100 * r.ap[m]:.2f}" if m in r.ap else "-" for m in METRICS]
        cells = [str(i) if r.status == "done" else "-", r.name, f"{r.macs / 1e9:.3f}", f"{r.params / 1e6:.3f}",
                 *[f"{r.share(p):.1f}" for p in parts], *ap, f"{r.epoch:g}" if r.status == "done" else r.status]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: list[Result], out: str | Path, metric: str = "ap_hard") -> list[Path]:
    """``OUT/ap_vs_share.png`` (AP against each part's share of MACs) and ``OUT/ap_cdf.png`` (the
    empirical CDF of each AP over the finished candidates); nothing when none has finished."""
    import numpy as np

    from ..eval.plots import _pyplot

    done = [r for r in results if metric in r.ap and r.status == "done"]
    if not done:
        return []
    plt = _pyplot()
    out = Path(out)
    written = []
    parts = list(done[0].parts)
    ap = np.array([100 * r.ap[metric] for r in done])
    if parts:
        cols = min(4, len(parts))
        rows = (len(parts) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
        for ax, part in zip(axes.flat, parts, strict=False):
            ax.scatter([r.share(part) for r in done], ap, s=18)
            ax.set_xlabel(f"{part.split('.')[-1]} share of MACs (%)")
            ax.set_ylabel(f"{metric} (%)")
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(parts):]:
            ax.axis("off")
        fig.suptitle(f"{len(done)} candidates: {metric} against where the compute goes")
        fig.tight_layout()
        written.append(out / "ap_vs_share.png")
        fig.savefig(written[-1])
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for m in METRICS:
        v = np.sort([100 * r.ap[m] for r in done if m in r.ap])
        ax.step(v, np.arange(1, len(v) + 1) / len(v), where="post", label=m)
    ax.set_xlabel("AP (%)")
    ax.set_ylabel("fraction of candidates with AP <= x")
    ax.set_title("empirical CDF of AP over the sampled space")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    written.append(out / "ap_cdf.png")
    fig.savefig(written[-1])
    plt.close(fig)
    return written


def write_report(folder: str | Path, results: list[Result]) -> list[Path]:
    """``ranking.md`` and ``ranking.json`` in ``folder`` (atomic writes)."""
    from ..atomic import write_text_atomic

    d = Path(folder)
    md = write_text_atomic(d / "ranking.md", format_table(results) + "\n")
    js = write_text_atomic(d / "ranking.json", json.dumps([asdict(r) for r in results], indent=1) + "\n")
    return [md, js]
