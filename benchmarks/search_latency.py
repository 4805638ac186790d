"""Network latency of search candidates beside the released presets: MACs are not milliseconds.

For every ``cand_*.yaml`` in a search folder (and the reference presets), export to ONNX, run ONNX
Runtime on a 640x480 input with a fixed thread count, interleaved in rounds (one call of each model
per round, so drifts of the machine hit all alike), and print median / p90 ms of the network alone
(weights are random: the graph's cost does not depend on them; pre- and post-processing are not
timed). AP columns come from ``ranking.json`` when ``facedet search collect`` wrote one.

    python benchmarks/search_latency.py runs/cr_mini --threads 1 --rounds 30 [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--reference", nargs="*", default=["scrfd_500m", "scrfd_1g"], help="zoo presets to time beside")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from facedet import FaceDetector
    from facedet.analysis.flops import count_complexity
    from facedet.zoo import build_model

    torch.set_num_threads(args.threads)
    names = [*args.reference, *(str(p) for p in sorted(args.folder.glob("cand_*.yaml")))]
    aps = {}
    ranking = args.folder / "ranking.json"
    if ranking.is_file():
        aps = {r["name"]: r["ap"] for r in json.loads(ranking.read_text())}
    runs, rows = {}, []
    blob = np.zeros((1, 3, 480, 640), np.float32)
    for name in names:
        model = build_model(name).eval()
        c = count_complexity(model)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            det = FaceDetector(model, backend="onnx", num_threads=args.threads, input_size=(640, 480))
        assert det.ort is not None
        for _ in range(args.warmup):
            det.ort.run(blob)
        runs[name] = (det, c)
    times: dict[str, list[float]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:
            det = runs[name][0]
            assert det.ort is not None
            t0 = time.perf_counter()
            det.ort.run(blob)
            times[name].append((time.perf_counter() - t0) * 1e3)
    print(f"network only, ONNX Runtime CPU, 640x480, {args.threads} thread(s), {args.rounds} rounds")
    print("| model | GMACs | params M | median ms | p90 ms | easy | medium | hard |")
    print("|---|---|---|---|---|---|---|---|")
    for name in names:
        c = runs[name][1]
        short = Path(name).stem if name.endswith(".yaml") else name
        ap_row = aps.get(short, {})
        cells = [f"{100 * ap_row[k]:.2f}" if k in ap_row else "-" for k in ("ap_easy", "ap_medium", "ap_hard")]
        med, p90 = float(np.median(times[name])), float(np.percentile(times[name], 90))
        rows.append({"model": short, "macs": c.macs, "params": c.params, "median_ms": med, "p90_ms": p90, **ap_row})
        head = f"| {short} | {c.macs / 1e9:.3f} | {c.params / 1e6:.3f} | {med:.2f} | {p90:.2f} | "
        print(head + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
