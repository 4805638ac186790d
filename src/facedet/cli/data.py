"""``facedet data``: inspect annotation sets (``stats``), write synthetic WIDER-layout data (``synth``), and
mark a detector's confident faces that no label covers as ignore regions (``ignore-unlabelled``), and label a
folder of unlabelled images with a teacher's detections (``pseudo-label``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _stats(args: argparse.Namespace) -> int:
    from facedet.data import load_dataset, summarize

    log = logging.getLogger("facedet.data")
    level = log.level
    log.setLevel(logging.ERROR)  # the skip count is printed below; no duplicate warning
    try:
        records = load_dataset(args.path, split=args.split, box_format=args.box_format)
    finally:
        log.setLevel(level)
    stats = summarize(records)
    if args.json:
        print(json.dumps(stats.to_dict()))
    else:
        print(stats.format_table())
    return 0


def _synth(args: argparse.Namespace) -> int:
    from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider

    cfg = SyntheticConfig(num_images=args.images, image_size=(args.size[0], args.size[1]))
    for split in args.split:
        records = write_synthetic_wider(args.root, split, cfg, seed=args.seed + (split == "val"))
        faces = sum(len(r.boxes) for r in records)
        print(f"{args.root}: wrote {len(records)} {split} images with {faces} faces")
    return 0


def _label_target(args: argparse.Namespace) -> Path:
    """OUT/label.txt of a labeller, refused when it exists and --force is not given."""
    target = Path(args.out) / "label.txt"
    if target.exists() and not args.force:
        raise FileExistsError(f"{target} exists; pass --force to replace it")
    return target


def _ignore_unlabelled(args: argparse.Namespace) -> int:
    """Partially labelled sets (WebFaces leaves about one confident face in nine unlabelled) teach a
    detector that those faces are background; as ignore regions they are neither face nor background."""
    import numpy as np
    from tqdm import tqdm

    from facedet.api import FaceDetector
    from facedet.atomic import write_text_atomic
    from facedet.checks import fraction
    from facedet.data import load_dataset
    from facedet.data.pseudo import snap_boxes
    from facedet.data.retinaface import format_label_txt
    from facedet.io import read_image
    from facedet.ops.boxes import box_iou_np

    fraction("--threshold", args.threshold)
    if args.snap_iou is not None:
        fraction("--snap-iou", args.snap_iou, open_low=True)
    fraction("--iou", args.iou, open_low=True)
    target = _label_target(args)
    records = list(load_dataset(args.path, split=args.split))
    det = FaceDetector(args.model, weights=args.weights, score_threshold=args.threshold, input_size=None,
                       max_side=args.max_side, num_threads=args.threads)
    added, skipped, snapped = 0, 0, 0
    for rec in tqdm(records, desc="ignore-unlabelled", unit="img", disable=args.no_progress):
        try:
            faces = det.detect(read_image(rec.path)).boxes
        except (ValueError, OSError) as exc:  # kept with its labels, no ignore regions added
            skipped += 1
            print(f"facedet data: skipping detection on {rec.path}: {exc}", file=sys.stderr)
            continue
        if len(faces) == 0:
            continue
        if args.snap_iou is not None:
            rec.boxes, moved = snap_boxes(rec.boxes, faces, args.snap_iou)
            snapped += int(moved.sum())
        covered = np.concatenate([rec.boxes, rec.ignore]) if len(rec.ignore) else rec.boxes
        overlap = box_iou_np(faces, covered).max(1) if len(covered) else np.zeros(len(faces))
        new = faces[overlap < args.iou].astype(np.float32)
        rec.ignore = np.concatenate([rec.ignore.reshape(-1, 4), new])
        added += len(new)
    for rec in records:
        rec.path = str(Path(rec.path).resolve())
    write_text_atomic(target, format_label_txt(records))
    print(f"{target}: {len(records)} images, {sum(len(r.boxes) for r in records)} faces, "
          f"{added} unlabelled detections (score >= {args.threshold}, IoU < {args.iou}) added as ignore regions"
          + (f"; {snapped} labels snapped to the detector's box (IoU >= {args.snap_iou})"
             if args.snap_iou is not None else "")
          + (f"; {skipped} unreadable images kept without detection" if skipped else ""))
    return 1 if skipped else 0


def _pseudo_label(args: argparse.Namespace) -> int:
    """More varied images than the labelled sets hold, labelled by a stronger detector (self-training)."""
    import numpy as np
    from tqdm import tqdm

    from facedet.api import FaceDetector
    from facedet.atomic import write_text_atomic
    from facedet.data.pseudo import list_images, split_by_score
    from facedet.data.records import ImageRecord
    from facedet.data.retinaface import format_label_txt
    from facedet.io import read_image

    split_by_score(np.zeros((0, 4)), np.zeros(0), args.threshold, args.ignore_threshold)  # checks thresholds first
    target = _label_target(args)
    paths = list_images(args.images)
    det = FaceDetector(args.model, weights=args.weights, score_threshold=args.ignore_threshold, input_size=None,
                       max_side=args.max_side, num_threads=args.threads)
    records: list[ImageRecord] = []
    skipped = 0
    for path in tqdm(paths, desc="pseudo-label", unit="img", disable=args.no_progress):
        try:
            image = read_image(path)
        except (ValueError, OSError) as exc:  # left out of label.txt, named here
            skipped += 1
            print(f"facedet data: skipping {path}: {exc}", file=sys.stderr)
            continue
        found = det.detect(image)
        faces, ignore = split_by_score(found.boxes, found.scores, args.threshold, args.ignore_threshold,
                                       args.min_side)
        if len(faces) == 0 and not args.keep_empty:
            continue
        h, w = image.shape[:2]
        records.append(ImageRecord(path=str(path.resolve()), boxes=faces, ignore=ignore, size=(w, h)))
    write_text_atomic(target, format_label_txt(records))
    print(f"{target}: {len(records)} of {len(paths)} images, {sum(len(r.boxes) for r in records)} faces "
          f"(score >= {args.threshold}), {sum(len(r.ignore) for r in records)} ignore regions "
          f"({args.ignore_threshold} <= score < {args.threshold})"
          + (f"; {skipped} unreadable images left out" if skipped else ""))
    return 1 if skipped else 0


def _labeller_args(p: argparse.ArgumentParser, weights_help: str) -> None:
    """The options both detector-driven labellers take: output folder, detector, threads, overwrite, progress."""
    p.add_argument("--out", required=True, help="folder for label.txt")
    p.add_argument("--weights", required=True, help=weights_help)
    p.add_argument("--model", default="scrfd_500m")
    p.add_argument("--max-side", type=int, default=1024, help="long-side cap of the detector's input")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--force", action="store_true", help="replace an existing OUT/label.txt")
    p.add_argument("--no-progress", action="store_true")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facedet data {stats,synth,ignore-unlabelled,pseudo-label}``."""
    p = subparsers.add_parser("data", help="inspect data sets, write synthetic data")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    s = sub.add_parser("stats", help="images, faces, ignored faces and a face-height histogram",
                       description="PATH: a WIDER root, a bbx_gt.txt or .mat, a label.txt, or a VOC folder "
                                   "(annotations/ + images/). Only images present on disk are counted.")
    s.add_argument("path")
    s.add_argument("--split", default="train", choices=["train", "val", "test"])
    s.add_argument("--box-format", default="xyxy", choices=["xyxy", "xywh"],
                   help="label.txt box layout: SCRFD x1 y1 x2 y2 (default) or RetinaFace x y w h")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=_stats)
    g = sub.add_parser("synth", help="write synthetic faces in the WIDER FACE layout (tests, demos)")
    g.add_argument("root")
    g.add_argument("--split", nargs="+", default=["train", "val"], choices=["train", "val"])
    g.add_argument("--images", type=int, default=50)
    g.add_argument("--size", type=int, nargs=2, default=[320, 320], metavar=("W", "H"))
    g.add_argument("--seed", type=int, default=0)
    g.set_defaults(func=_synth)
    u = sub.add_parser("ignore-unlabelled", help="add a detector's confident unlabelled faces as ignore regions",
                       description="Writes OUT/label.txt (SCRFD xyxy layout, absolute image paths) holding PATH's "
                                   "labels plus, as ignore regions, every detection of --weights with score >= "
                                   "--threshold that overlaps no label or ignore region by --iou or more.")
    u.add_argument("path", help="any data set load_dataset reads (WIDER root, label.txt, VOC, WebFaces)")
    _labeller_args(u, "the detector's weights (e.g. an official .onnx)")
    u.add_argument("--threshold", type=float, default=0.5)
    u.add_argument("--iou", type=float, default=0.3)
    u.add_argument("--split", default="train", choices=["train", "val", "test"])
    u.add_argument("--snap-iou", type=float, default=None, metavar="IOU",
                   help="also replace each label by the detection (score >= --threshold) it mutually best "
                        "matches at IOU or more (moves another set's box style to the detector's; "
                        "facedet.data.pseudo.snap_boxes)")
    u.set_defaults(func=_ignore_unlabelled)
    q = sub.add_parser("pseudo-label", help="label a folder of unlabelled images with a teacher's detections",
                       description="Writes OUT/label.txt (SCRFD xyxy layout, absolute image paths) for the images "
                                   "under IMAGES: detections of --weights with score >= --threshold as faces, "
                                   "those in [--ignore-threshold, --threshold) as ignore regions. Train on it "
                                   "with --data OUT.")
    q.add_argument("images", help="folder of images (searched recursively)")
    _labeller_args(q, "the teacher's weights (e.g. an official .onnx)")
    q.add_argument("--threshold", type=float, default=0.5, help="lowest score kept as a face")
    q.add_argument("--ignore-threshold", type=float, default=0.2, help="lowest score kept as an ignore region")
    q.add_argument("--min-side", type=float, default=4.0, help="drop detections thinner than this (pixels)")
    q.add_argument("--keep-empty", action="store_true", help="also list images with no face (as negatives)")
    q.set_defaults(func=_pseudo_label)
