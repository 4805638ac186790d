"""Redraw the α trajectory of an AutoFEM search run (``facedet search autofem``) and summarise it.

    python benchmarks/autofem_alpha_plot.py runs/autofem/genotype_search

Writes ``alpha_fpn.png`` (softmax(α) per op for every AutoFEM-FPN slot against the step) and ``alpha_cpm.png``
(per CPM level, softmax(α) averaged over the level's 21 edges) into the run folder, and prints per FPN slot
the op it derives, its probability, the margin over the runner-up and how often the argmax changed after the
warm-up (the single-path search only moves the α of the op it runs, so a slot whose argmax keeps changing has
not settled).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from facedet.search.darts import plot_alpha_trajectory, read_alpha_log


def summary(run: Path) -> list[str]:
    record = json.loads((run / "search.json").read_text())
    prims, warmup = record["primitives"], record["settings"]["warmup"]
    rows = read_alpha_log(run / "alpha.jsonl")
    lines = [f"{'slot':10s} {'op':16s} {'p':>6s} {'margin':>7s} {'flips':>5s}"]
    for key in rows[-1]["alpha"]:
        if not key.startswith("fpn_"):
            continue
        picks = [int(torch.tensor(r["alpha"][key]).argmax()) for r in rows if r["step"] >= warmup]
        p = torch.softmax(torch.tensor(rows[-1]["alpha"][key]), -1).sort(descending=True).values
        flips = sum(a != b for a, b in zip(picks, picks[1:], strict=False))
        lines.append(f"{key:10s} {prims[key][picks[-1]]:16s} {float(p[0]):6.3f} {float(p[0] - p[1]):7.3f} {flips:5d}")
    return lines


def main(run: Path) -> None:
    prims = json.loads((run / "search.json").read_text())["primitives"]
    log = run / "alpha.jsonl"
    plot_alpha_trajectory(log, prims, run / "alpha_fpn.png", "fpn_", "AutoFEM-FPN α, softmax per slot")
    if any(k.startswith("cpm") for k in prims):
        plot_alpha_trajectory(log, prims, run / "alpha_cpm.png", "cpm", "AutoFEM-CPM α, mean softmax per level")
    print("\n".join(summary(run)))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/autofem/genotype_search"))
