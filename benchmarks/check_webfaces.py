"""Check the boxes facedet derives from WebFaces' facial points against a trained detector.

For a random sample of images, each derived box is matched to the detector's best-overlapping face
(score >= 0.5); the table gives the IoU distribution, the detector's mean box size relative to ours
(a systematic size or offset bias shows there), and how many confident detections no label covers
(unlabelled faces). ``--montage PNG`` also draws a grid of the first 12 sampled images for a look.

usage: python benchmarks/check_webfaces.py WEBFACES_DIR --weights ../shared/weights/scrfd/scrfd_500m.onnx
       [--square] [--seed S] [--montage PNG]   (--square: the uncalibrated rule; calibrated on seed 0)
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from facedet.api import FaceDetector
from facedet.data.pseudo import box_offsets
from facedet.data.webfaces import SQUARE, WIDER_SHAPE, load_webfaces
from facedet.ops.boxes import box_iou_np as box_iou


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--weights", required=True, help="detector to compare with (e.g. the official SCRFD .onnx)")
    ap.add_argument("--model", default="scrfd_500m")
    ap.add_argument("--images", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--montage", default="")
    ap.add_argument("--square", action="store_true", help="the plain square rule (the shape is calibrated on it)")
    args = ap.parse_args()

    records = load_webfaces(args.root, shape=SQUARE if args.square else WIDER_SHAPE)
    rng = np.random.default_rng(args.seed)
    sample = [records[int(i)] for i in rng.choice(len(records), min(args.images, len(records)), replace=False)]
    det = FaceDetector(args.model, weights=args.weights, score_threshold=0.5, input_size=None, max_side=1024,
                       num_threads=args.threads)
    ious, ratios, wr, hr, dx, dy, unlabelled, found = [], [], [], [], [], [], 0, 0
    tiles = []
    for rec in sample:
        img = cv2.imread(rec.path)
        faces = det.detect(img).boxes
        found += len(faces)
        if len(faces):
            o = box_offsets(rec.boxes, faces)
            ious.extend(o.iou.tolist())
            ratios.extend(np.sqrt(o.w_ratio * o.h_ratio).tolist())
            wr.extend(o.w_ratio.tolist())
            hr.extend(o.h_ratio.tolist())
            dx.extend(o.dx.tolist())
            dy.extend(o.dy.tolist())
            unlabelled += int((box_iou(rec.boxes, faces).max(0) < 0.3).sum())
        else:
            ious.extend([0.0] * len(rec.boxes))
        if args.montage and len(tiles) < 12:
            for b in rec.boxes.astype(int):
                cv2.rectangle(img, (b[0], b[1]), (b[2], b[3]), (0, 255, 0), 2)
            for b in faces.astype(int):
                cv2.rectangle(img, (b[0], b[1]), (b[2], b[3]), (0, 0, 255), 1)
            s = 300 / max(img.shape[:2])
            img = cv2.resize(img, (int(img.shape[1] * s), int(img.shape[0] * s)))
            tile = np.zeros((300, 300, 3), np.uint8)
            tile[: img.shape[0], : img.shape[1]] = img
            tiles.append(tile)
    ious_a = np.asarray(ious)
    print(f"{len(sample)} images, {len(ious_a)} labelled faces, {found} detections (score >= 0.5)")
    print("| quantity | value |\n|---|---|")
    print(f"| IoU(label, best detection) median | {np.median(ious_a):.3f} |")
    for t in (0.3, 0.5, 0.7):
        print(f"| labels with IoU >= {t} | {np.mean(ious_a >= t):.1%} |")
    if ratios:
        print(f"| detection / label sqrt(area), median | {np.median(ratios):.3f} |")
        print(f"| detection width / label width, median | {np.median(wr):.3f} |")
        print(f"| detection height / label height, median | {np.median(hr):.3f} |")
        print(f"| centre offset x / label width, median | {np.median(dx):+.3f} |")
        print(f"| centre offset y / label height, median | {np.median(dy):+.3f} |")
    print(f"| confident detections no label covers (IoU < 0.3) | {unlabelled} |")
    if args.montage and tiles:
        while len(tiles) % 4:
            tiles.append(np.zeros_like(tiles[0]))
        cv2.imwrite(args.montage, np.vstack([np.hstack(tiles[k:k + 4]) for k in range(0, len(tiles), 4)]))
        print(f"montage (green: derived labels, red: detector) -> {args.montage}")


if __name__ == "__main__":
    main()
