"""VOC-style AP at one IoU of several weight files on one labelled image set, through ``FaceDetector``'s
default settings (native size capped at 1024, NMS 0.4) with threshold 0.02 for a full precision-recall curve.

Two uses beside dev-val-144 (``facedet eval wider``), so that the packaged model is not chosen on two WIDER
events alone:

- ``--labels LABEL_TXT``: an out-of-domain set, e.g. AFW (``benchmarks/extract_afw.py``; no training image
  comes from it). Every labelled face counts.
- ``--wider-train ROOT``: the fit check, on every ``--every``-th WIDER *train* image at hand (sorted by path,
  at most ``--limit``). Faces of ``--min-size`` px (sqrt of area) and larger that are not ``invalid`` count;
  smaller and invalid faces and the set's ignore regions are ignore regions. A student that misses on its own
  training images what it misses on val is under-fitted (more compute helps), not over-fitted (more data helps).

usage: python benchmarks/eval_voc.py (--labels LABEL_TXT | --wider-train ROOT) WEIGHTS [WEIGHTS ...]
       [--model scrfd_500m] [--iou 0.5] [--min-size 32] [--every 6] [--limit 160] [--threads 2]
A WEIGHTS entry may be an official ONNX file that the model imports (e.g. ``scrfd_500m.onnx``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from facedet.api import FaceDetector
from facedet.data.records import ImageRecord
from facedet.data.retinaface import load_label_txt
from facedet.data.wider import load_wider
from facedet.eval.voc import average_precision


def load_set(args: argparse.Namespace) -> tuple[list[ImageRecord], list[np.ndarray], list[np.ndarray]]:
    """The records and, per image, the counted faces and the ignore regions (both ``xyxy``)."""
    if args.labels:
        records = list(load_label_txt(args.labels))
        return records, [r.boxes.astype(np.float64) for r in records], [r.ignore.astype(np.float64) for r in records]
    records = sorted(load_wider(args.wider_train, "train"), key=lambda r: r.path)[:: args.every][: args.limit]
    faces, ignore = [], []
    for r in records:
        b = r.boxes.astype(np.float64)
        side = np.sqrt(np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None))
        ok = (side >= args.min_size) & (r.attributes["invalid"] == 0)
        faces.append(b[ok])
        ignore.append(np.concatenate([b[~ok], r.ignore.reshape(-1, 4)]))
    return records, faces, ignore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--labels", type=Path, help="a label.txt (images/ beside it)")
    src.add_argument("--wider-train", type=Path, help="a WIDER FACE root with WIDER_train/images")
    ap.add_argument("weights", nargs="+")
    ap.add_argument("--model", default="scrfd_500m")
    ap.add_argument("--iou", type=float, default=0.5)
    ap.add_argument("--min-size", type=float, default=32.0)
    ap.add_argument("--every", type=int, default=6)
    ap.add_argument("--limit", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    records, faces, ignore = load_set(args)
    print(f"{len(records)} images, {sum(len(f) for f in faces)} counted faces, "
          f"{sum(len(i) for i in ignore)} ignore regions")
    print(f"| weights | AP@{args.iou:g} | seconds |\n|---|---|---|")
    for weights in args.weights:
        t0 = time.time()
        det = FaceDetector(args.model, weights=weights, score_threshold=0.02, num_threads=args.threads)
        dets = []
        for r in tqdm(records, desc=Path(weights).name, leave=False):
            found = det.detect(r.path)  # read by the detector itself, in its own colour order
            dets.append(np.concatenate([found.boxes, found.scores[:, None]], axis=1))
        ap_value = average_precision(dets, faces, ignore, iou_thr=args.iou)
        print(f"| {weights} | {ap_value:.4f} | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
