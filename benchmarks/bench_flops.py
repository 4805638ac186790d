"""Params / MACs of every zoo model at 640x480 beside the published numbers, and how long counting takes.

Run: ``.venv/bin/python benchmarks/bench_flops.py [--real]`` (``--real`` also times a real CPU forward
count, which gives identical numbers; the default ``meta`` count does no arithmetic).
"""

from __future__ import annotations

import argparse
import time

import torch

from facedet.analysis.flops import count_complexity, scrfd_breakdown
from facedet.zoo import build_model, list_models, published


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--real", action="store_true", help="also count with a real CPU forward and time it")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"MACs at 640x480 (mmcv convention); torch {torch.__version__}, {args.threads} threads")
    cols = f"{'model':<16s} {'params':>10s} {'pub M':>6s} {'MACs G':>8s} {'pub G':>7s} {'conv G':>7s} " \
           f"{'bb/neck/head %':>15s} {'meta s':>7s}" + (f" {'cpu s':>7s}" if args.real else "")
    print(cols)
    print("-" * len(cols))
    for name in list_models():
        model = build_model(name)
        t = time.perf_counter()
        c = count_complexity(model)
        t_meta = time.perf_counter() - t
        pub = published(name)
        split = ""
        if getattr(model, "family", "") == "scrfd":
            parts = scrfd_breakdown(c)
            head, neck = parts["bbox_head"], parts["neck"]
            split = f"{100 * (c.macs - head - neck) / c.macs:.0f}/{100 * neck / c.macs:.0f}/{100 * head / c.macs:.0f}"
        line = (f"{name:<16s} {c.params:>10,d} {pub.get('params_m', float('nan')):>6.2f} {c.macs / 1e9:>8.3f} "
                f"{pub.get('flops_g', float('nan')):>7.3f} {c.conv_macs / 1e9:>7.3f} {split:>15s} {t_meta:>7.2f}")
        if args.real:
            t = time.perf_counter()
            r = count_complexity(model, device="cpu")
            line += f" {time.perf_counter() - t:>7.2f}"
            assert (r.macs, r.conv_macs) == (c.macs, c.conv_macs)
        print(line)


if __name__ == "__main__":
    main()
