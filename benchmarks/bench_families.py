"""Torch vs ONNX Runtime detection time for the non-SCRFD families (FaceDetector, whole pipeline).

usage: python benchmarks/bench_families.py IMAGE [--models extd_fpn_32 ...] [--max-side 640] [--threads 1]
[--rounds 10]; prints median milliseconds per image and the ORT speed-up. Random weights: the network
time does not depend on them.

Measured 2026-11-23 on this 2-core machine, idle, ``1_Handshaking_Handshaking_1_236.jpg`` (1024x682),
``--rounds 5``: extd_fpn_32 torch 838 ms, onnx 468 ms (1.8x); gs_fpn_finest_r18 torch 430 ms, onnx 732 ms (0.6x).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from facedet.api import FaceDetector
from facedet.io import read_image


def median_ms(det: FaceDetector, image, rounds: int) -> float:
    det.detect(image)  # warm-up
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        det.detect(image)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--models", nargs="+", default=["extd_fpn_32", "gs_fpn_finest_r18"])
    ap.add_argument("--max-side", type=int, default=640)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    image = read_image(args.image)
    print(f"{'model':<22s}{'torch ms':>10s}{'onnx ms':>10s}{'speed-up':>10s}   ({image.shape[1]}x{image.shape[0]}, "
          f"max side {args.max_side}, {args.threads} thread(s))")
    for name in args.models:
        opts = {"input_size": None, "max_side": args.max_side, "score_threshold": 0.5, "num_threads": args.threads}
        torch.manual_seed(0)
        t = median_ms(FaceDetector(name, **opts), image, args.rounds)
        o = median_ms(FaceDetector(name, backend="onnx", **opts), image, args.rounds)
        print(f"{name:<22s}{t:10.1f}{o:10.1f}{t / o:9.1f}x")


if __name__ == "__main__":
    main()
