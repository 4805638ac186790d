"""INT8 against float on ONNX Runtime: network time of one file quantised with different float prefixes.

For an ONNX detector (default: the official ``scrfd_500m.onnx``), writes its INT8 copies with
``facedet.export.quantize.quantize_int8`` at each ``--float-stride`` (1: every convolution int8; 8: the
layers at strides 2 and 4 stay float), calibrated on ``--calib`` WIDER train images at long side 1024,
then times the float file and every copy in interleaved rounds (one random input, ``OrtModel`` with head
fusion as ``FaceDetector`` runs it) and, with ``--ap``, gives each one's dev-val-144 AP at the default
pre-processing (native size, long side <= 1024). Prints a table.

usage: python benchmarks/int8_speed.py [--onnx FILE] [--shared ../shared] [--float-stride 1 8]
       [--calib 64] [--threads 1] [--size 640x480] [--rounds 150] [--ap] [--work runs/int8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from facedet.export.quantize import quantize_int8, spread
from facedet.export.runtime import OrtModel


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--onnx", type=Path, default=None, help="default: SHARED/weights/scrfd/scrfd_500m.onnx")
    ap.add_argument("--float-stride", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--calib", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--rounds", type=int, default=150)
    ap.add_argument("--ap", action="store_true", help="also dev-val-144 AP of every file")
    ap.add_argument("--work", type=Path, default=Path("runs/int8"))
    args = ap.parse_args()
    src = args.onnx or args.shared / "weights" / "scrfd" / "scrfd_500m.onnx"
    train = sorted((args.shared / "data" / "widerface" / "WIDER_train" / "images").glob("*/*.jpg"))
    if not src.is_file() or not train:
        raise SystemExit(f"need {src} and WIDER train images under {args.shared / 'data' / 'widerface'}")
    calib = spread(train, args.calib)
    args.work.mkdir(parents=True, exist_ok=True)
    files = {"float": src}
    for fs in args.float_stride:
        q = args.work / f"{src.stem}_int8_fs{fs}.onnx"
        quantize_int8(src, q, calib, float_stride=fs)
        files[f"int8 float_stride={fs}"] = q
    models = {k: OrtModel(p, num_threads=args.threads) for k, p in files.items()}
    w, h = (int(v) for v in args.size.split("x"))
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, -(-h // 32) * 32, -(-w // 32) * 32)).astype(np.float32)
    times: dict[str, list[float]] = {k: [] for k in models}
    for _ in range(args.rounds + 10):
        for k, m in models.items():
            t0 = time.perf_counter()
            m.session.run(None, {m.input_name: x})
            times[k].append(time.perf_counter() - t0)
    aps: dict[str, dict[str, float]] = {}
    if args.ap:
        sys.path.insert(0, str(Path(__file__).parent))
        from frontier import Candidate, _ours, evaluate, val_items  # the frontier's evaluation, same protocol

        items, gt, images_dir = val_items(args.shared)
        for k, p in files.items():
            config = {"model": str(p), "input_size": None, "max_side": 1024}
            cand = Candidate(k, config, _ours(config))
            evaluate(cand, items, gt, images_dir)
            aps[k] = cand.result
    print(f"{src.name}, {args.size}, {args.threads} thread(s), {args.rounds} interleaved rounds, "
          f"{len(calib)} calibration images")
    print("| file | network ms (median) | vs float | easy | medium | hard |")
    print("|---|---|---|---|---|---|")
    base = float(np.median(times["float"][10:]))
    for k in models:
        ms = float(np.median(times[k][10:]))
        r = aps.get(k, {})
        print(f"| {k} | {1000 * ms:.2f} | {base / ms:.2f}x | {r.get('easy', '')} | {r.get('medium', '')} | "
              f"{r.get('hard', '')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
