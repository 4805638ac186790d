"""Table-9-style sampling ablation: the same small Group Sampling detector trained with random / OHEM /
Focal* / GS / GS+WRS sampling for an equal number of steps, scored on dev-val-144 (All, @16..@128).

Usage (CPU; prints a table and writes JSON)::

    nice -n 5 python benchmarks/ablate_sampling.py --data PATH/widerface --steps 500 --threads 1 \
        --backbone-weights src/facedet/weights/scrfd_500m_facedet.pt --out runs/ablation.json

Every row runs on the toolkit's engine (:class:`facedet.engine.trainer.Trainer`), with the Group
Sampling recipe's augmentation (scale jitter 0.25·n, ``--crop`` square crop, flip) and criterion
(two-pass matching, least-squares IoU loss; ``facedet.families.group_sampling.recipe.SAMPLINGS`` picks the
sampler). Same seed, so the same initial weights and the same image / augmentation stream in every row.

Detector: FPN-finest (P2, anchors 16/32/64/128, stride 4) with 64-channel neck and head. Backbone:
``--backbone mobilenet`` (SCRFD-500M's MobileNetV1) started from ``--backbone-weights`` (the
backbone of a trained SCRFD checkpoint: no ImageNet weights exist here, and from scratch a CPU budget
ranks nothing: 300 steps per row left every row below 1 % AP), or ``--backbone resnet`` (narrow
ResNet-18, ``--widths``) from scratch. Budget: GS takes ``--num`` samples per scale group and image;
random, OHEM and WRS ``4 * --num`` per image (the same total; 256 at the default, Faster R-CNN's RPN
budget); Focal* every anchor (normalised by the sum of focal weights). With 1,024 samples per image the
few positives of a 320 px crop were about 1 % of the loss and, in 1,000 steps, the classifier stayed at
its prior (random row 0.6 % All; positives scored 0.05 on training crops), hence 64 per group. At lr
0.02 the head collapsed to one constant score (every row 0.0 AP); lr 0.01 is the default.
SGD as the paper (momentum 0.9, weight decay 5e-5), lr ``--lr`` with a linear
warm-up, x0.1 at the epochs nearest 60 % and 80 % of the steps (the paper's epochs 60 / 80 of 100; at
500 steps: epochs 2 and 3 of 124 batches, steps 248 and 372). Test: ``--test-scales``
pyramid (NMS 0.5); "@S" keeps only sub-detector S (``facedet.families.group_sampling.scale_eval``).
Numbers on dev-val-144 are NOT comparable with the paper's full-val numbers.

Measured 2026-11-23 (2 shared CPU cores, two runs side by side, ``--steps 500 --lr 0.01``, defaults
otherwise), AP % All: random 0.3, OHEM 0.3, Focal* 0.3, GS 0.1, GS+WRS 0.1 (Easy / Medium / Hard at
most 0.9). About 4 epochs rank nothing; a Table 9 needs GPU time (the paper: 100 epochs from ImageNet).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from facedet.config import apply_overrides
from facedet.convert.state import read_state_dict
from facedet.data import load_dataset
from facedet.engine.trainer import Trainer, seed_everything
from facedet.eval.wider_gt import load_ground_truth
from facedet.families import default_config
from facedet.families.group_sampling import FAMILY, build
from facedet.families.group_sampling.recipe import SAMPLINGS
from facedet.families.group_sampling.scale_eval import GROUP_NAMES, evaluate_scales, predict_by_group


def build_detector(args: argparse.Namespace) -> torch.nn.Module:
    """The ablation detector, its backbone loaded from ``--backbone-weights`` when given."""
    seed_everything(args.seed)
    extra = {"widths": tuple(args.widths)} if args.backbone == "resnet" else {}
    model = build("fpn_finest", 18, level=2, backbone=args.backbone, neck_channels=args.channels,
                  head_channels=args.channels, **extra)
    if args.backbone_weights:
        state = read_state_dict(args.backbone_weights)
        sub = {k[len("backbone."):]: v.float() for k, v in state.items() if k.startswith("backbone.")}
        model.backbone.load_state_dict(sub, strict=True)
    return model


def train_one(setting: str, args: argparse.Namespace, records: list, out: Path) -> tuple[torch.nn.Module, dict]:
    """Train one table row on the engine; returns the model (eval mode) and timing / loss info."""
    model = build_detector(args)
    ipe = math.ceil(len(records) / args.batch)
    epochs = math.ceil(args.steps / ipe)
    cfg = apply_overrides(default_config("gs_fpn_finest_r18"), [
        "model.name=gs_ablation", f"train.batch_size={args.batch}", f"train.lr={args.lr}", "train.momentum=0.9",
        "train.weight_decay=5e-5", f"train.warmup_iters={args.warmup}", "train.schedule=step",
        f"train.epochs={epochs}", f"train.max_steps={args.steps}", f"train.threads={args.threads}",
        f"train.milestones=[{max(1, round(0.6 * args.steps / ipe))}, {max(1, round(0.8 * args.steps / ipe))}]",
        "train.grad_clip=10", f"train.seed={args.seed}", "train.log_interval=50", "eval.interval=0",
        f"data.input_size={args.crop}", "data.photometric=false", f"data.num_workers={args.workers}",
        f"loss.sampling={setting}", f"loss.num_samples={args.num}",
    ])
    criterion, transform = FAMILY.criterion(model, cfg), FAMILY.augment(model, cfg.data)
    trainer = Trainer(model, criterion, cfg, records, out / setting, progress=False, transform=transform)
    t0 = time.time()
    trainer.fit()
    rows = trainer.history
    loss = float(rows[-1]["loss"]) if rows and "loss" in rows[-1] else float("nan")
    return model.eval(), {"train_s": time.time() - t0, "final_loss": loss}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="WIDER FACE root (wider_face_split/, WIDER_train/, WIDER_val/, "
                                                 "ground_truth/)")
    p.add_argument("--settings", nargs="+", default=["random", "ohem", "focal", "gs", "gs_wrs"], choices=SAMPLINGS)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=320)
    p.add_argument("--num", type=int, default=64, help="samples per scale group and image (GS); x4 for the others")
    p.add_argument("--backbone", choices=("mobilenet", "resnet"), default="mobilenet")
    p.add_argument("--backbone-weights", default="", help="checkpoint whose backbone.* weights start the backbone")
    p.add_argument("--widths", type=int, nargs=4, default=(16, 32, 64, 128), help="resnet widths")
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--workers", type=int, default=0, help="loader worker processes")
    p.add_argument("--runs", default="runs/ablate_sampling", help="checkpoints and logs of every row")
    p.add_argument("--test-scales", type=float, nargs="+", default=[1.0])
    p.add_argument("--max-side", type=float, default=1600.0)
    p.add_argument("--val-images", type=int, default=0, help="evaluate on the first N val images (0: all present)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="", help="write the results as JSON here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    root = Path(args.data)
    records = [r for r in load_dataset(root, "train") if len(r.boxes)]
    gt = load_ground_truth(root / "ground_truth")
    images_dir = root / "WIDER_val" / "images"
    items = [(k, images_dir / k[0] / f"{k[1]}.jpg") for k in gt.keys]
    items = [(k, pth) for k, pth in items if pth.is_file()]
    if args.val_images > 0:
        items = items[:args.val_images]
    print(f"train images {len(records)}, val images {len(items)}; {args.steps} steps x {args.batch} images "
          f"of {args.crop}px per setting", flush=True)
    rows = {}
    for setting in args.settings:
        model, info = train_one(setting, args, records, Path(args.runs))
        t0 = time.time()
        with torch.no_grad():
            merged, per_group = predict_by_group(model, items, args.test_scales, args.max_side, score_thr=0.02,
                                                 pre_nms_topk=5000)
        subset = [k for k, _ in items] if args.val_images > 0 else None
        aps = evaluate_scales(merged, per_group, gt, images_dir, subset=subset)
        info["eval_s"] = time.time() - t0
        rows[setting] = {**aps, **info}
        print(f"  [{setting}] " + " ".join(f"{k} {100 * aps[k]:.1f}" for k in ("all", *GROUP_NAMES)), flush=True)
    start = f"from {args.backbone_weights}" if args.backbone_weights else "from scratch"
    print("\nTable 9 style, dev-val-144 (AP %, not comparable with the paper's full val); "
          f"{args.steps} steps x {args.batch} x {args.crop}px, {args.backbone} {start}, seed {args.seed}")
    print(f"{'sampling':<10s}" + "".join(f"{c:>8s}" for c in (*GROUP_NAMES, "All", "Easy", "Med", "Hard"))
          + f"{'loss':>8s}{'train s':>9s}")
    for s, r in rows.items():
        cols = [r[g] for g in GROUP_NAMES] + [r["all"], r["easy"], r["medium"], r["hard"]]
        print(f"{s:<10s}" + "".join(f"{100 * v:8.1f}" for v in cols) + f"{r['final_loss']:8.3f}{r['train_s']:9.0f}")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
