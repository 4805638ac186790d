"""``facedet zoo``: every zoo model with its published AP / params / FLOPs beside our own counts."""

from __future__ import annotations

import argparse
import json


def _fmt(v: object, spec: str) -> str:
    return format(v, spec) if isinstance(v, (int, float)) else format("-", ">" + spec.split(".")[0])


def _run(args: argparse.Namespace) -> int:
    from ..zoo import build_model, list_models, published

    names = list_models()  # without torch: one line saying how to install it
    import torch

    from ..analysis.flops import count_complexity

    torch.set_num_threads(2)
    rows = []
    for name in names:
        pub = published(name)
        size = tuple(pub.get("flops_size", (640, 480)))  # the size the paper's FLOPs were counted at
        c = count_complexity(build_model(name), size)
        rows.append({"name": name, **{k: pub.get(k) for k in ("easy", "medium", "hard", "params_m", "flops_g")},
                     "params": c.params, "macs": c.macs, "size": f"{size[0]}x{size[1]}"})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    head = (f"{'model':<26s} {'easy':>6s} {'medium':>6s} {'hard':>6s} | "
            f"{'params M':>8s} {'ours':>7s} | {'FLOPs G':>7s} {'ours':>7s} {'at':>8s}")
    print("WIDER FACE val AP (published) and size; FLOPs = MACs at 640x480 (mmcv convention)")
    print(head)
    print("-" * len(head))
    for r in rows:
        ap = " ".join(_fmt(r[k], "6.2f") for k in ("easy", "medium", "hard"))
        print(f"{r['name']:<26s} {ap} | {_fmt(r['params_m'], '8.2f')} {r['params'] / 1e6:7.3f} | "
              f"{_fmt(r['flops_g'], '7.3f')} {r['macs'] / 1e9:7.3f} {r['size']:>8s}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("zoo", help="list zoo models with published and measured size")
    p.add_argument("--json", action="store_true", help="machine-readable rows")
    p.set_defaults(func=_run)
