"""Evaluate training checkpoints on a WIDER val folder (official protocol, subset mode) and print a table.

usage: python benchmarks/eval_checkpoints.py WIDER_ROOT CKPT [CKPT ...] [--sizes 640 1024] [--threads 1]

With the 144 val images at hand this is "dev-val-144" (not comparable with full-val numbers).
"""

from __future__ import annotations

import argparse
import time

import torch

from facedet import zoo
from facedet.engine.checkpoint import load_checkpoint
from facedet.engine.wider_eval import WiderValEvaluator


def load_trained(path: str, use_ema: bool = True) -> tuple[torch.nn.Module, dict]:
    """Model of a trainer checkpoint (EMA weights when present) and the checkpoint dict."""
    ck = load_checkpoint(path)
    model = zoo.build_model(ck["model_name"])
    state = ck["ema"] if use_ema and ck.get("ema") is not None else ck["model"]
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval(), ck


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("--sizes", type=int, nargs="+", default=[640])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    evaluators = {s: WiderValEvaluator(args.root, max_size=s) for s in args.sizes}
    n = len(next(iter(evaluators.values())).items)
    print(f"WIDER val, {n} images present (subset mode), threshold 0.02, NMS 0.45, long side capped per column")
    print("| checkpoint | epoch | step | max side | AP easy | AP medium | AP hard | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.checkpoints:
        model, ck = load_trained(path)
        for size, ev in evaluators.items():
            t0 = time.time()
            m = ev(model)
            print(f"| {path} | {ck.get('epoch')} | {ck.get('step')} | {size} | {m['ap_easy']:.4f} | "
                  f"{m['ap_medium']:.4f} | {m['ap_hard']:.4f} | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
