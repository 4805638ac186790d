"""dev-val AP of one weights file at several input sizes (native aspect, long side capped at each size).

usage: python benchmarks/eval_sizes.py WEIGHTS [--model scrfd_500m] [--val ../shared/data/widerface]
       [--sizes 640 800 1024] [--threads 2]
Uses the trainer's evaluator (``facedet.engine.wider_eval.WiderValEvaluator``: threshold 0.02, NMS 0.45).
"""

from __future__ import annotations

import argparse
import time

import torch

from facedet.engine.wider_eval import WiderValEvaluator
from facedet.zoo import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights")
    ap.add_argument("--model", default="scrfd_500m")
    ap.add_argument("--val", default="../shared/data/widerface")
    ap.add_argument("--sizes", type=int, nargs="+", default=[640, 800, 1024])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model, args.weights).eval()
    print("| long side | Easy | Medium | Hard | seconds |\n|---|---|---|---|---|")
    for size in args.sizes:
        t0 = time.time()
        r = WiderValEvaluator(args.val, max_size=size)(model)
        print(f"| {size} | {r['ap_easy']:.4f} | {r['ap_medium']:.4f} | {r['ap_hard']:.4f} | {time.time() - t0:.0f} |")


if __name__ == "__main__":
    main()
