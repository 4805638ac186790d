"""Proof that our SCRFD training recipe is right: fine-tune the official SCRFD-0.5GF weights.

The official weights (insightface's ONNX, imported into our PyTorch SCRFD) are trained further with our
data pipeline, ATSS assigner, distance coder and GFL losses at the official schedule's final learning
rate (0.01 x 0.1 x 0.1 = 1e-4) for a few hundred steps. A right pipeline keeps the dev-val-144 AP
within about 2 points; a wrong assigner, coder or loss wrecks it within a hundred steps.

    python benchmarks/prove_finetune.py --shared ../shared --steps 300 --threads 2

The imported BatchNorms are un-folded with statistics of ``--calib`` training crops (see below).
Prints the dev-val-144 AP (official protocol, long side 640) before and after, and the loss trace.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from facedet.config import apply_overrides

OFFICIAL_FINAL_LR = 0.01 * 0.1 * 0.1  # lr 0.01, x0.1 at epochs 440 and 544 (specs/scrfd.md §2.3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default="../shared", help="folder with data/widerface and weights/scrfd")
    ap.add_argument("--preset", default="scrfd_500m")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=640, help="training crop side (the released recipe: 640)")
    ap.add_argument("--lr", type=float, default=OFFICIAL_FINAL_LR)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calib", type=int, default=32, help="training crops that un-fold the folded BatchNorms")
    ap.add_argument("--out", default="", help="run folder (default: a temporary one)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from facedet import zoo
    from facedet.data import load_dataset
    from facedet.data.loader import FaceDataset, collate, trainable
    from facedet.engine.trainer import Trainer, seed_everything
    from facedet.engine.wider_eval import WiderValEvaluator
    from facedet.families import default_config, family_of
    from facedet.families.scrfd.onnx_import import import_scrfd_onnx
    from facedet.models.detector import as_detector

    shared = Path(args.shared)
    wider = shared / "data" / "widerface"
    onnx = shared / "weights" / "scrfd" / f"{args.preset}.onnx"
    records = trainable(list(load_dataset(wider, "train")))
    evaluator = WiderValEvaluator(wider, max_size=640)
    seed_everything(0)
    model = zoo.build_model(args.preset)
    cfg = apply_overrides(default_config(args.preset), [
        f"data.input_size={args.size}", "data.num_workers=1", f"train.batch_size={args.batch}",
        f"train.lr={args.lr}", "train.warmup_iters=0", "train.schedule=cosine", f"train.min_lr_ratio={1.0}",
        f"train.max_steps={args.steps}", "train.epochs=1", "train.log_interval=20", "eval.interval=0",
        f"train.threads={args.threads}", "train.cpu_channels_last=true"])
    # The ONNX file has its BatchNorms folded into the convolutions. Training mode normalises with batch
    # statistics, so the folded BNs must be un-folded with real statistics first (training crops of the
    # run's own pipeline); without that, train-mode BN is a different function and 300 steps at lr 1e-4
    # cost 30 AP points (measured), which says nothing about the recipe.
    det = as_detector(model)
    data = FaceDataset(records, family_of(model).augment(det, cfg.data), det.input_mean, det.input_std,
                       det.input_rgb, seed=1)
    calibration, _ = collate([data[(0, i)] for i in range(0, len(records), max(1, len(records) // args.calib))])
    print(import_scrfd_onnx(model, onnx, calibration))
    before = evaluator(model.eval())
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="prove_finetune_"))
    trainer = Trainer(model, family_of(model).criterion(model, cfg), cfg, records, out, progress=True)
    trainer.fit()
    after = evaluator(model.eval())
    print(f"\n{args.preset}: official weights fine-tuned {args.steps} steps x {args.batch} images at lr {args.lr:g}, "
          f"{args.size}px crops; dev-val-144 AP (long side 640)")
    print(f"{'':<8}{'easy':>8}{'medium':>8}{'hard':>8}")
    for name, m in (("before", before), ("after", after)):
        print(f"{name:<8}" + "".join(f"{m[k]:>8.4f}" for k in ("ap_easy", "ap_medium", "ap_hard")))
    print(f"{'change':<8}" + "".join(f"{after[k] - before[k]:>+8.4f}" for k in ("ap_easy", "ap_medium", "ap_hard")))
    print(f"loss trace: {out / 'train.csv'}")


if __name__ == "__main__":
    main()
