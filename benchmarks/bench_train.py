"""Training-step throughput on CPU: images/s of a full step and each part's share.

A step is: decode the images, augment them (the family's pipeline), forward, the family's criterion
(plus a distillation teacher's forward and terms with ``--teacher``), backward and the SGD update.
Parts are timed one after the other in this process; ``serial img/s`` is the batch over their sum and
``compute img/s`` leaves out decode + augment (the trainer's loader worker does those beside the
compute, so a run sits between the two). Variants: ``fp32``, ``cl`` (channels-last, the
``train.cpu_channels_last`` setting), ``bf16`` (``train.cpu_bf16``) and ``cl+bf16``.

    python benchmarks/bench_train.py --data ../shared/data/widerface --threads 2
    python benchmarks/bench_train.py --presets scrfd_500m --sizes 320 --teacher ../shared/weights/scrfd/scrfd_2.5g.onnx
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import cv2
import torch

HALVED_CROPS = (0.15, 0.225, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # benchmarks/train_default.sh


def bench(preset: str, size: int, variant: str, records: list, batch: int, steps: int, teacher: str) -> dict:
    from facedet import zoo
    from facedet.config import apply_overrides
    from facedet.criteria.distill import Distiller
    from facedet.data.loader import FaceDataset, collate
    from facedet.engine.teacher import load_teacher
    from facedet.families import default_config, family_of
    from facedet.models.detector import as_detector

    cfg = apply_overrides(default_config(preset), [f"data.input_size={size}"])
    if family_of(preset).name == "scrfd":
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, crop_choice=HALVED_CROPS))
    torch.manual_seed(0)
    model = zoo.build_model(preset).train()
    fam = family_of(model)
    det = as_detector(model)
    criterion = fam.criterion(model, cfg)
    ds = FaceDataset(records, fam.augment(det, cfg.data), det.input_mean, det.input_std, det.input_rgb, 0)
    distiller = Distiller(load_teacher(teacher), model, cfg.distill) if teacher else None
    cl, bf16 = "cl" in variant, "bf16" in variant
    if cl:
        model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        if distiller is not None:
            distiller.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    parts: dict[str, list[float]] = {k: [] for k in ("decode", "augment", "forward", "teacher", "loss", "backward")}
    clock = time.perf_counter
    for step in range(steps + 1):  # step 0 warms up
        keys = [(step, (step * batch + i) % len(ds)) for i in range(batch)]
        t0 = clock()
        for k in keys:
            cv2.imread(ds.records[k[1]].path, cv2.IMREAD_COLOR)
        t1 = clock()
        images, targets = collate([ds[k] for k in keys])  # decode again + augment + normalise
        if cl:
            images = images.contiguous(memory_format=torch.channels_last)
        t2 = clock()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            outputs = model(images)
            t3 = clock()
            taught = distiller.teacher_outputs(images) if distiller is not None else None
        t4 = clock()
        if distiller is not None and taught is not None:
            losses = distiller.losses(outputs, taught, targets, criterion)
        else:
            losses = criterion(outputs, targets)
        t5 = clock()
        opt.zero_grad(set_to_none=True)
        losses["loss"].backward()
        opt.step()
        t6 = clock()
        if step:
            decode = t1 - t0
            for k, v in zip(parts, (decode, t2 - t1 - decode, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True):
                parts[k].append(v)
    med = {k: statistics.median(v) for k, v in parts.items()}
    total = sum(med.values())
    compute = total - med["decode"] - med["augment"]
    return {"preset": preset, "size": size, "variant": variant, "serial": batch / total, "compute": batch / compute,
            **{f"%{k}": 100 * v / total for k, v in med.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/widerface", help="WIDER root with WIDER_train images")
    ap.add_argument("--presets", nargs="+", default=["scrfd_500m", "extd_fpn_32"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[320, 640])
    ap.add_argument("--variants", nargs="+", default=["fp32", "cl", "bf16", "cl+bf16"])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=5, help="timed steps per row (after one warm-up step)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--keep-denormal", action="store_true", help="do not flush subnormal floats (the old default)")
    ap.add_argument("--teacher", default="", help="also run this distillation teacher (a zoo name or file)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.keep_denormal)  # as the trainer does (train.flush_denormal)
    cv2.setNumThreads(1)
    from facedet.data import load_dataset
    from facedet.data.loader import trainable

    if not Path(args.data).is_dir():
        raise SystemExit(f"{args.data}: no such folder (a WIDER root with WIDER_train/images)")
    records = trainable(list(load_dataset(args.data, "train")))
    cols = ["decode", "augment", "forward", "teacher", "loss", "backward"]
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch}, median of {args.steps} steps, "
          f"denormals {'kept' if args.keep_denormal else 'flushed'}"
          + (f", teacher {args.teacher}" if args.teacher else ""))
    print(f"{'preset':<14}{'size':>5} {'variant':<8}{'serial img/s':>13}{'compute img/s':>14}"
          + "".join(f"{'%' + c:>10}" for c in cols))
    for preset in args.presets:
        for size in args.sizes:
            for variant in args.variants:
                r = bench(preset, size, variant, records, args.batch, args.steps, args.teacher)
                print(f"{preset:<14}{size:>5} {variant:<8}{r['serial']:>13.1f}{r['compute']:>14.1f}"
                      + "".join(f"{r['%' + c]:>10.1f}" for c in cols), flush=True)


if __name__ == "__main__":
    main()
