"""ONNX Runtime time of a detector's network with and without sibling-convolution fusion (facedet.export.fuse).

For each ONNX file (the official SCRFD files in --weights, plus any given with --onnx): the same file as
two sessions, ``OrtModel(fuse_heads=False)`` and ``OrtModel(fuse_heads=True)``, run alternately on one
random input per size (a file with a fixed input size: that size only), in interleaved rounds so that
drifts of the machine hit both alike. Prints the median network time in ms, the speed-up, and the
largest output difference between the two. ``--block N`` runs each session N times in a row per round
and keeps the last N-1 calls: with more than one thread, call-by-call alternation makes each session
wait on the other's spinning thread pool, so use a block of 10 or so there.

usage: python benchmarks/fuse_heads.py [--weights ../shared/weights] [--onnx FILE ...] [--threads 1]
       [--rounds 200] [--block 1] [--sizes 640x480 1280x720]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from facedet.export.runtime import OrtModel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, default=Path("../shared/weights"))
    ap.add_argument("--onnx", type=Path, nargs="*", default=[])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--sizes", nargs="*", default=["640x480", "1280x720"])
    ap.add_argument("--block", type=int, default=1, help="calls per session per round (first one dropped when > 1)")
    args = ap.parse_args()
    files = sorted((args.weights / "scrfd").glob("*.onnx")) + list(args.onnx)
    if not files:
        raise SystemExit(f"no ONNX files: none in {args.weights / 'scrfd'} and no --onnx given")
    print(f"threads {args.threads}, {args.rounds} interleaved rounds of {args.block} call(s), median network ms")
    print(f"{'file':24s} {'size':>9s} {'groups':>6s} {'plain':>7s} {'fused':>7s} {'speed-up':>8s} {'max |diff|':>10s}")
    for path in files:
        plain = OrtModel(path, num_threads=args.threads, fuse_heads=False)
        fused = OrtModel(path, num_threads=args.threads, fuse_heads=True)
        fixed = plain.session.get_inputs()[0].shape[2:]
        sizes = [f"{fixed[1]}x{fixed[0]}"] if all(isinstance(d, int) for d in fixed) else args.sizes
        for size in sizes:  # a file with a fixed input size runs at that size only
            w, h = (int(v) for v in size.split("x"))
            x = np.random.default_rng(0).uniform(-1, 1, (1, 3, -(-h // 32) * 32, -(-w // 32) * 32)).astype(np.float32)
            a, b = plain.run(x), fused.run(x)
            diff = max(float(np.abs(a[k] - b[k]).max()) for k in a)
            times: list[list[float]] = [[], []]
            for _ in range(args.rounds + 10):
                for i, m in enumerate((plain, fused)):
                    for call in range(args.block):
                        t0 = time.perf_counter()
                        m.session.run(None, {m.input_name: x})
                        if call or args.block == 1:
                            times[i].append(time.perf_counter() - t0)
            p, f = (1000 * float(np.median(t[10:])) for t in times)
            print(f"{path.name:24s} {size:>9s} {fused.fused:6d} {p:7.2f} {f:7.2f} {p / f:7.3f}x {diff:10.2e}")


if __name__ == "__main__":
    main()
