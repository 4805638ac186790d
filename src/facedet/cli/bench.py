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
    p.add_argument("--stages", action="store_true",
                   help="also print our ORT pipeline's time per stage (letterbox, normalise, network, post)")
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
    if args.stages and not args.json:
        _print_stages(args)
    return 0


def _print_stages(args: argparse.Namespace) -> None:
    import torch

    from ..analysis.bench import bench_image, stage_breakdown
    from ..api import FaceDetector
    from ..families import family_of
    from ..zoo import load_model

    name = args.models[0]
    official = args.weights_dir / family_of(name).name / f"{name}.onnx"
    print(f"\n{name} on ONNX Runtime, median ms per stage ({args.rounds} runs)")
    print("| size | threads | letterbox | normalise | network | postprocess | post share |")
    print("|---|---|---|---|---|---|---|")
    for t in args.threads:
        torch.set_num_threads(t)
        model = load_model(name, weights=official if official.is_file() else None)
        det = FaceDetector(model, backend="onnx", num_threads=t)
        for w, h in args.sizes:
            st = stage_breakdown(det, bench_image(args.sample, w, h), runs=args.rounds)
            share = st["postprocess"] / sum(st.values())
            print(f"| {w}x{h} | {t} | " + " | ".join(f"{st[k]:.2f}" for k in st) + f" | {share:.1%} |")
