"""How a data set's face boxes differ in style from a detector's: per matched face (IoU >= 0.4, faces of
32 px and larger), the mean log width and height ratios (detector / label), the centre offset over the
label's width and height (positive: the detector's centre lies right / below), and the median IoU. One row per
data set (``facedet.data.pseudo.box_offsets``).

usage: python benchmarks/box_style.py DATA [DATA ...] [--weights scrfd_2.5g.onnx] [--model scrfd_2.5g]
       [--images 150] [--seed 0] [--threads 1]
A WIDER-trained detector against WIDER's own labels gives the baseline row; a set whose row is far from it
draws its boxes in another style (``facedet data ignore-unlabelled --snap-iou`` moves them).
"""

from __future__ import annotations

import argparse

import numpy as np

from facedet.api import FaceDetector
from facedet.data import load_dataset
from facedet.data.pseudo import box_offsets
from facedet.io import read_image


def style_rows(det: FaceDetector, path: str, images: int, seed: int) -> np.ndarray:
    """``(N, 6)``: log w ratio, log h ratio, dx, dy, IoU, face size, for the matched faces of a sample."""
    recs = load_dataset(path)
    pick = np.random.default_rng(seed).choice(len(recs), min(images, len(recs)), replace=False)
    out = [np.zeros((0, 6))]
    for i in pick:
        rec = recs[i]
        found = det.detect(read_image(rec.path)).boxes if len(rec.boxes) else np.zeros((0, 4))
        if not len(found):
            continue
        o = box_offsets(rec.boxes, found)
        ok = o.iou >= 0.4
        g = rec.boxes[ok]
        size = np.sqrt((g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1]))
        out.append(np.c_[np.log(o.w_ratio[ok]), np.log(o.h_ratio[ok]), o.dx[ok], o.dy[ok], o.iou[ok], size])
    return np.concatenate(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", nargs="+", help="data sets load_dataset reads")
    ap.add_argument("--weights", default="../shared/weights/scrfd/scrfd_2.5g.onnx")
    ap.add_argument("--model", default="scrfd_2.5g")
    ap.add_argument("--images", type=int, default=150, help="images sampled per data set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    det = FaceDetector(args.model, weights=args.weights, score_threshold=0.5, input_size=None, max_side=1024,
                       num_threads=args.threads)
    print("| data | faces >= 32 px | log w | log h | dx | dy | median IoU |\n|---|---|---|---|---|---|---|")
    for path in args.data:
        r = style_rows(det, path, args.images, args.seed)
        r = r[r[:, 5] >= 32]
        mu = r[:, :4].mean(0) if len(r) else np.full(4, np.nan)
        med = float(np.median(r[:, 4])) if len(r) else float("nan")
        print(f"| {path} | {len(r)} | {mu[0]:+.3f} | {mu[1]:+.3f} | {mu[2]:+.3f} | {mu[3]:+.3f} | {med:.3f} |")


if __name__ == "__main__":
    main()
