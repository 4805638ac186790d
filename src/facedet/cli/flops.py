"""``facedet flops NAME [--size W H] [--json]``: parameters and MACs (paper convention, default 640x480)."""

from __future__ import annotations

import argparse
import json


def _run(args: argparse.Namespace) -> int:
    import torch

    from ..analysis.flops import count_complexity
    from ..families import family_of
    from ..zoo import build_model

    torch.set_num_threads(max(1, args.threads))
    model = build_model(args.model)
    w, h = args.size
    if w <= 0 or h <= 0:
        raise ValueError(f"--size must be positive, got {w} {h}")
    c = count_complexity(model, (w, h))
    if args.json:
        print(json.dumps({"params": c.params, "macs": c.macs}))
        return 0
    print(f"{args.model} at {w}x{h} (MACs: conv multiply-accumulate = 1, + bias, norm, ReLU, pool; mmcv convention)")
    print(f"  params     {c.params:>14,d}  ({c.params / 1e6:.4f} M)")
    print(f"  MACs       {c.macs:>14,d}  ({c.macs / 1e9:.4f} G)")
    print(f"  conv MACs  {c.conv_macs:>14,d}  ({c.conv_macs / 1e9:.4f} G)")
    breakdown = family_of(model).flops_breakdown
    if breakdown is not None:
        for part, macs in breakdown(c).items():
            print(f"    {part:<18s} {macs / 1e9:8.4f} G  {100 * macs / c.macs:5.1f} %")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("flops", help="count parameters and MACs of a zoo model")
    p.add_argument("model", help="zoo model name (see `facedet zoo`)")
    p.add_argument("--size", nargs=2, type=int, default=(640, 480), metavar=("W", "H"), help="input size (640 480)")
    p.add_argument("--json", action="store_true", help='print {"params": int, "macs": int}')
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=_run)
