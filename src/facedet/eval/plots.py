"""Saving evaluation results: WIDER PR curves and FDDB ROC curves as PNG (matplotlib, Agg) and JSON.

JSON is written with NaN replaced by ``null`` so that any JSON reader accepts it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facedet.eval.fddb import FddbResult
    from facedet.eval.wider import WiderResult


def _clean(obj: Any) -> Any:
    """Replace NaN/inf floats by None, recursively (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def save_json(data: dict, path: str | Path) -> Path:
    """Write ``data`` as indented strict JSON (NaN -> null); creates the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(data), indent=1) + "\n")
    return path


def _pyplot():
    from facedet.optional import require

    matplotlib = require("matplotlib", "plot", "plotting")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(plt, fig, ax, path: str | Path, legend_loc: str) -> Path:
    """Grid, legend, save to ``path`` (folders created) and close the figure."""
    ax.grid(alpha=0.3)
    ax.legend(loc=legend_loc)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_wider_pr(result: WiderResult, path: str | Path, title: str | None = None) -> Path:
    """One PNG with the PR curve of every setting, AP in the legend (as MATLAB's ``wider_plot.m``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    for name, s in result.settings.items():
        ax.plot(s.recall, s.precision, label=f"{name}: AP {s.ap:.4f} ({s.num_faces} faces)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    subset = " (subset)" if result.subset else ""
    ax.set_title(title or f"WIDER FACE val{subset}: {result.num_images} images")
    return _finish(plt, fig, ax, path, legend_loc="lower left")


def plot_wider_pr_compare(results: Mapping[str, WiderResult], setting: str, path: str | Path,
                          title: str | None = None) -> Path:
    """One setting's PR curves of several detectors on one PNG (label -> result), AP in the legend: where a
    curve falls off says at which recall the detector's scores stop ranking faces above background."""
    if not results:
        raise ValueError("no results to plot")
    missing = [label for label, r in results.items() if setting not in r.settings]
    if missing:
        raise ValueError(f"setting {setting!r} is not in the results of {', '.join(missing)}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    for label, r in results.items():
        s = r.settings[setting]
        ax.plot(s.recall, s.precision, label=f"{label}: AP {s.ap:.4f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    first = next(iter(results.values()))
    ax.set_title(title or f"WIDER FACE val{' (subset)' if first.subset else ''}, {setting}: "
                          f"{first.settings[setting].num_faces} faces")
    return _finish(plt, fig, ax, path, legend_loc="lower left")


def plot_fddb_roc(result: FddbResult, path: str | Path, title: str | None = None,
                  max_fp: float | None = 2000) -> Path:
    """Discrete and continuous ROC (TPR against the absolute number of false positives)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5), dpi=100)
    roc = result.roc
    ax.plot(roc.fp, roc.tpr_disc, label=f"discrete (TPR@{result.fp_limit} FP = {result.tpr_disc_at:.4f})")
    ax.plot(roc.fp, roc.tpr_cont, label=f"continuous (TPR@{result.fp_limit} FP = {result.tpr_cont_at:.4f})")
    if max_fp is not None:
        ax.set_xlim(0, max_fp)
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("false positives")
    ax.set_ylabel("true positive rate")
    ax.set_title(title or f"FDDB: {result.num_images} images, {roc.num_faces} faces")
    return _finish(plt, fig, ax, path, legend_loc="lower right")


def plot_training(epochs_csv: str | Path, path: str | Path, title: str | None = None) -> Path:
    """AP per evaluated epoch (easy / medium / hard) over the mean training loss, from a run's ``epochs.csv``."""
    import csv

    rows = list(csv.DictReader(open(epochs_csv)))
    if not rows:
        raise ValueError(f"{epochs_csv}: no epoch rows")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    epochs = [float(r["epoch"]) for r in rows]
    for key, label in (("ap_easy", "Easy AP"), ("ap_medium", "Medium AP"), ("ap_hard", "Hard AP")):
        pts = [(e, float(r[key])) for e, r in zip(epochs, rows, strict=True) if r.get(key)]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("AP")
    ax.set_ylim(0, 1)
    loss = ax.twinx()
    loss.plot(epochs, [float(r["loss"]) for r in rows], color="grey", alpha=0.6, label="train loss")
    loss.set_ylabel("mean train loss", color="grey")
    ax.set_title(title or str(Path(epochs_csv).parent.name))
    return _finish(plt, fig, ax, path, "upper left")
