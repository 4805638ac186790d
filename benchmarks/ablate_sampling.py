"""Table-9-style sampling ablation: the same small Group Sampling detector trained with random / OHEM /
Focal* / GS / GS+WRS sampling for an equal number of steps, scored on dev-val-144 (All, @16..@128).

Usage (CPU, small budget; prints a table and writes JSON)::

    nice -n 10 python benchmarks/ablate_sampling.py --data PATH/widerface --steps 300 --threads 1

Detector: FPN-finest (P2, anchors 16/32/64/128, stride 4) on a narrow ResNet-18 (``--widths``), from
scratch (no ImageNet weights are available here). Training: random image, scale jitter
``--train-scales``, random ``--crop`` square crop (padded), horizontal flip; WIDER ``invalid`` faces
are ignore regions. Sampling budget: GS takes ``--num`` samples per scale group and image; random,
OHEM and WRS take ``4 * --num`` per image (the same total); Focal* uses every anchor (normalised by
the sum of focal weights), GS+Focal* ``--num`` random samples per group. Test: ``--test-scales``
pyramid (NMS 0.5); "@S" keeps only sub-detector S (see ``facedet.models.group_sampling.scale_eval``).
Numbers on dev-val-144 are NOT comparable with the paper's full-val numbers.

Measured 2026-11-23 (2 shared CPU cores, ~4 min training per setting, default arguments,
``--steps 300 --threads 1``): every setting stays below 1 % AP "All" (random 0.8, OHEM 0.2,
Focal* 0.5, GS 0.3, GS+WRS 0.2): from scratch, 1,200 crops are far too few to rank the samplers.
A meaningful Table 9 needs ImageNet weights and the paper's schedule (100 epochs).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from facedet.criteria.group_sampling import GroupSamplingCriterion
from facedet.data import load_dataset
from facedet.eval.wider_gt import load_ground_truth
from facedet.io import read_image
from facedet.models.group_sampling import build
from facedet.models.group_sampling.scale_eval import GROUP_NAMES, evaluate_scales, predict_by_group
from facedet.samplers.group import GroupSampler
from facedet.samplers.ohem import OHEMSampler
from facedet.samplers.random import AllSampler, RandomSampler
from facedet.samplers.wrs import WRSSampler

SETTINGS = ("random", "ohem", "focal", "wrs", "gs", "gs_ohem", "gs_wrs", "gs_focal")


def criterion_for(setting: str, model: torch.nn.Module, num: int, seed: int) -> GroupSamplingCriterion:
    """The criterion of one table row (same matcher and regression loss everywhere)."""
    samplers = {
        "random": (RandomSampler(4 * num), "ce"),
        "ohem": (OHEMSampler(4 * num), "ce"),
        "focal": (AllSampler(), "focal"),
        "wrs": (WRSSampler(4 * num), "ce"),
        "gs": (GroupSampler(num), "ce"),
        "gs_ohem": (GroupSampler(num, mode="ohem"), "ce"),
        "gs_wrs": (GroupSampler(num, mode="wrs"), "ce"),
        "gs_focal": (GroupSampler(num), "focal"),
    }
    sampler, cls_loss = samplers[setting]
    return GroupSamplingCriterion.from_model(model, sampler=sampler, cls_loss=cls_loss, seed=seed)


def augment(rec, rng: np.random.Generator, scales: list[float], crop: int, model) -> tuple[np.ndarray, dict]:
    """Scale jitter, random square crop (zero padded), flip; returns the normalised CHW array and targets."""
    img = read_image(rec.path)
    s = float(rng.choice(scales))
    img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
    boxes, ignore = rec.boxes.astype(np.float32) * s, rec.ignore.astype(np.float32) * s
    h, w = img.shape[:2]
    x0, y0 = int(rng.integers(0, max(w - crop, 0) + 1)), int(rng.integers(0, max(h - crop, 0) + 1))
    canvas = np.zeros((crop, crop, 3), np.uint8) + np.asarray(model.input_mean[::-1], np.uint8)
    patch = img[y0:y0 + crop, x0:x0 + crop]
    canvas[:patch.shape[0], :patch.shape[1]] = patch
    off = np.array([x0, y0, x0, y0], np.float32)
    boxes, ignore = boxes - off, ignore - off
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    keep = (centre >= 0).all(1) & (centre[:, 0] < patch.shape[1]) & (centre[:, 1] < patch.shape[0])
    boxes = boxes[keep]
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, patch.shape[1])
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, patch.shape[0])
    boxes = boxes[((boxes[:, 2:] - boxes[:, :2]) >= 1).all(1)]
    if rng.random() < 0.5:
        canvas = canvas[:, ::-1]
        boxes = np.stack([crop - boxes[:, 2], boxes[:, 1], crop - boxes[:, 0], boxes[:, 3]], 1).reshape(-1, 4)
        ignore = np.stack([crop - ignore[:, 2], ignore[:, 1], crop - ignore[:, 0], ignore[:, 3]], 1).reshape(-1, 4)
    rgb = canvas[..., ::-1].astype(np.float32)
    mean, std = np.asarray(model.input_mean, np.float32), np.asarray(model.input_std, np.float32)
    arr = ((rgb - mean) / std).transpose(2, 0, 1)
    return np.ascontiguousarray(arr), {"boxes": torch.from_numpy(boxes), "ignore": torch.from_numpy(ignore)}


def train_one(setting: str, args: argparse.Namespace, records: list) -> tuple[torch.nn.Module, dict]:
    torch.manual_seed(args.seed)
    model = build("fpn_finest", 18, level=2, widths=tuple(args.widths), neck_channels=args.channels,
                  head_channels=args.channels)
    crit = criterion_for(setting, model, args.num, args.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-5)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: min(1.0, (i + 1) / args.warmup))
    rng = np.random.default_rng(args.seed)  # same image / augmentation stream for every setting
    model.train()
    t0, log = time.time(), []
    for step in range(args.steps):
        batch = [augment(records[int(rng.integers(len(records)))], rng, args.train_scales, args.crop, model)
                 for _ in range(args.batch)]
        images = torch.from_numpy(np.stack([b[0] for b in batch]))
        out = crit(model(images), [b[1] for b in batch])
        opt.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        sched.step()
        log.append([float(out["loss"].detach()), float(out["loss_cls"]), float(out["loss_reg"])])
        if (step + 1) % 50 == 0:
            m = np.mean(log[-50:], 0)
            print(f"  [{setting}] step {step + 1}/{args.steps} loss {m[0]:.3f} cls {m[1]:.3f} reg {m[2]:.3f} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    return model.eval(), {"train_s": time.time() - t0, "final_loss": float(np.mean(log[-50:], 0)[0])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="WIDER FACE root (wider_face_split/, WIDER_train/, WIDER_val/, "
                                                 "ground_truth/)")
    p.add_argument("--settings", nargs="+", default=["random", "ohem", "focal", "gs", "gs_wrs"], choices=SETTINGS)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=320)
    p.add_argument("--num", type=int, default=256, help="samples per scale group and image (GS)")
    p.add_argument("--widths", type=int, nargs=4, default=(16, 32, 64, 128))
    p.add_argument("--channels", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--train-scales", type=float, nargs="+", default=[0.5, 0.75, 1.0, 1.25])
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
        model, info = train_one(setting, args, records)
        t0 = time.time()
        with torch.no_grad():
            merged, per_group = predict_by_group(model, items, args.test_scales, args.max_side, score_thr=0.02,
                                                 pre_nms_topk=5000)
        subset = [k for k, _ in items] if args.val_images > 0 else None
        aps = evaluate_scales(merged, per_group, gt, images_dir, subset=subset)
        info["eval_s"] = time.time() - t0
        rows[setting] = {**aps, **info}
        print(f"  [{setting}] " + " ".join(f"{k} {100 * aps[k]:.1f}" for k in ("all", *GROUP_NAMES)), flush=True)
    print("\nTable 9 style, dev-val-144 (AP %, not comparable with the paper's full val); "
          f"{args.steps} steps x {args.batch} x {args.crop}px, widths {tuple(args.widths)}, seed {args.seed}")
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
