"""Proof that a family's network, assigner, coder, loss and decoding fit together: overfit 16 real images.

Trains a preset (from scratch, or from ``model.init=<weights>``) on 16 WIDER FACE training images (the
first 16, in annotation-file order, that hold 1 to 40 faces: crowds of hundreds of 10-pixel faces test
capacity, not correctness) with the family's own criterion and augmentation, then detects on the same 16
images (native size, long side at most ``--max-side``) and reports the AP at IoU 0.5 over their faces of
``--min-face`` pixels and larger (smaller and ``invalid`` faces are ignore regions).

Two modes. By default the network trains on the family's own random crops, so it must generalise across
crops of the 16 images (from scratch that takes thousands of steps). ``--fixed`` is the memorisation check:
every step shows each whole image, long side at ``--size`` and padded square, no crop, flip or colour
change, and detection runs at that same size, so a network that cannot fit it has a broken assigner,
coder, loss or decoding rather than too few steps.

Measured here (1 thread, from scratch), neither mode reaches 0.9 in a few hundred steps:

- ``scrfd_500m --steps 400`` (its random crops, SGD 0.01, clip 35): AP 0.0016;
- ``scrfd_500m --fixed --size 320 --steps 600 train.grad_clip=0 train.optimizer=adam train.lr=0.001
  train.weight_decay=0``: the loss memorises (box 1.07 at step 50, 0.20 at 600) but AP 0.017, as at 320 px
  most faces of these images are under 8 pixels; ``benchmarks/asfd_d0_plain.yaml`` the same way with
  ``loss.neg_iou=0.3``: 0.011 (2 threads; 0.036 in a 1-thread run). Use ``--size 640`` or more for an AP
  that means something.

From the packaged default weights it passes: ``scrfd_500m --fixed --size 1024 --steps 200
model.init=src/facedet/weights/scrfd_500m_facedet.pt train.optimizer=adam train.lr=0.0005
train.weight_decay=0 train.grad_clip=0``: AP 0.534 before, 0.991 after.

    python benchmarks/prove_overfit.py scrfd_500m --steps 600
    python benchmarks/prove_overfit.py extd_fpn_32 --steps 600 --lr 0.01
    python benchmarks/prove_overfit.py gs_fpn_finest_r18 --steps 600 --size 512
    python benchmarks/prove_overfit.py asfd_d0 --fixed --size 640 --steps 300
    python benchmarks/prove_overfit.py asfd_d0 --fixed --model '{"cos_scale": 4}' train.grad_clip=0

Prints the loss trace every 50 steps and the AP table; ``--out`` keeps the run folder.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

HALVED_CROPS = "[0.15,0.225,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0]"


def pick(records: list, n: int = 16, max_faces: int = 40) -> list:
    """The first ``n`` records with 1..``max_faces`` faces."""
    return [r for r in records if 1 <= len(r.boxes) <= max_faces][:n]


def overfit_ap(model: torch.nn.Module, records: list, min_face: float, max_side: int) -> tuple[float, int]:
    """AP at IoU 0.5 over the faces of at least ``min_face`` px (others ignored), and how many there are."""
    from facedet.api import FaceDetector
    from facedet.eval.voc import average_precision

    det = FaceDetector(model=model.eval(), score_threshold=0.02, nms_threshold=0.4, input_size=None,
                       max_side=max_side)
    dets, faces, ignore = [], [], []
    for r in records:
        found = det.detect(r.path)
        dets.append(np.concatenate([found.boxes, found.scores[:, None]], 1) if len(found) else np.zeros((0, 5)))
        boxes = np.asarray(r.boxes, np.float64).reshape(-1, 4)
        big = (np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= min_face)
        faces.append(boxes[big])
        ignore.append(np.concatenate([boxes[~big], np.asarray(r.ignore, np.float64).reshape(-1, 4)]))
    return average_precision(dets, faces, ignore, 0.5), int(sum(len(f) for f in faces))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preset")
    ap.add_argument("--data", default="../shared/data/widerface", help="WIDER root with WIDER_train images")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=320, help="training crop side")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--min-face", type=float, default=16.0)
    ap.add_argument("--max-side", type=int, default=1024, help="detection: long side cap (WIDER images: 1024)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="{}", help="JSON of preset overrides, e.g. '{\"cosine\": false}'")
    ap.add_argument("--fixed", action="store_true",
                    help="memorise: whole images at --size, no augmentation; detect at the same size")
    ap.add_argument("--out", default="")
    ap.add_argument("overrides", nargs="*", help="extra section.key=value settings")
    args = ap.parse_intermixed_args()
    torch.set_num_threads(args.threads)

    from facedet import zoo
    from facedet.config import apply_overrides
    from facedet.data import load_dataset
    from facedet.engine.trainer import Trainer, seed_everything
    from facedet.families import default_config, family_of
    from facedet.families.base import Budget

    records = pick(list(load_dataset(args.data, "train")))
    family = family_of(args.preset)
    cfg = default_config(args.preset)
    if family.name != "scrfd" and family.paper_config is not None:  # their own schedule's shape and losses
        cfg = family.paper_config(cfg, Budget(len(records), args.steps, args.batch))
    settings = [f"data.input_size={args.size}", "data.num_workers=1", f"train.batch_size={args.batch}",
                f"train.lr={args.lr}", "train.warmup_iters=50", "train.schedule=cosine", "train.milestone_iters=[]",
                f"train.max_steps={args.steps}", "train.epochs=1", "train.log_interval=50", "eval.interval=0",
                f"train.threads={args.threads}", "train.grad_clip=35"]
    if family.name == "scrfd":
        settings += [f"data.crop_choice={HALVED_CROPS}", "train.cpu_channels_last=true"]
    cfg = apply_overrides(cfg, settings + list(args.overrides))
    seed_everything(0)
    overrides = json.loads(args.model)
    if cfg.model.init:
        if overrides:
            raise SystemExit("--model and model.init= do not combine: weights load into the preset as it is")
        model = zoo.load_model(args.preset, cfg.model.init).train()
    else:
        model = zoo.build_model(args.preset, **overrides)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="prove_overfit_"))
    transform = None
    max_side = args.max_side
    if args.fixed:
        from facedet.data.crops import bgr_fill
        from facedet.data.transforms import Compose, WholeImage

        transform = Compose([WholeImage(args.size, bgr_fill(model.input_mean, model.input_rgb))])
        max_side = args.size
    trainer = Trainer(model, family.criterion(model, cfg), cfg, records, out, transform=transform, progress=False)
    before, n = overfit_ap(model, records, args.min_face, max_side)
    trainer.fit()
    after, _ = overfit_ap(model, records, args.min_face, max_side)
    rows = list(csv.DictReader(open(out / "train.csv")))
    keys = [k for k in rows[0] if k.startswith("loss")] if rows else []
    print(f"{args.preset}: {len(records)} images, {n} faces >= {args.min_face:g} px; {args.steps} steps x "
          f"{args.batch} at {args.size} px, lr {args.lr:g} (cosine){', fixed views' if args.fixed else ''}")
    print(f"{'step':>6}" + "".join(f"{k:>12}" for k in keys))
    for r in rows:
        print(f"{r['step']:>6}" + "".join(f"{float(r[k]):>12.4f}" for k in keys))
    print(f"AP@0.5 on the training images: before {before:.4f}, after {after:.4f}")


if __name__ == "__main__":
    main()
