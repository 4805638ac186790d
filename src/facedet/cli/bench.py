"""``facedet bench``: end-to-end latency of our detectors and peers (see facedet.analysis.bench)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DEFAULT_SAMPLE = Path("../shared/data/widerface/WIDER_val/images/0--Parade/0_Parade_marchingband_1_465.jpg")


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        return int(w), int(h)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size must look like 640x480, got {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="end-to-end latency: our detectors vs. peers")
    p.add_argument("--weights-dir", type=Path, default=Path("../shared/weights"),
                   help="folder with scrfd/*.onnx and peers/*.onnx")
    p.add_argument("--models", nargs="+", default=["scrfd_500m"])
    p.add_argument("--sizes", nargs="+", type=_size, default=[(640, 480), (1280, 720)])
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE, help="image resized to each size")
    p.add_argument("--json", action="store_true", help="print one JSON list of rows and nothing else")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..analysis.bench import default_specs, format_table
    from ..analysis.bench import run as run_bench

    specs = default_specs(args.weights_dir, tuple(args.models))
    rows = run_bench(specs, args.sizes, args.threads, rounds=args.rounds, sample=args.sample,
                     progress=not args.json)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows]))
    else:
        print(format_table(rows, reference=f"ours:{args.models[0]}"))
    return 0
