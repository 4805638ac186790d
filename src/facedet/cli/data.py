"""``facedet data``: inspect annotation sets (``stats``) and write synthetic WIDER-layout data (``synth``)."""

from __future__ import annotations

import argparse
import json
import logging


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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``facedet data {stats,synth}``."""
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
