"""dev-val-144 AP of official SCRFD weights: our pipeline vs. the insightface-style reference.

For each model: (1) the reference pipeline (facedet.analysis.reference, long side 640, 640x640
canvas, threshold 0.02, NMS 0.4) on the official ONNX file; (2) our PyTorch model with the ONNX
weights imported, through FaceDetector (same letterbox/threshold/NMS, boxes clipped to the image);
(3) the same without clipping. All scored by the official WIDER protocol on the images present.

    python benchmarks/scrfd_wider_parity.py --models scrfd_500m scrfd_2.5g --threads 1
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import torch

from facedet import FaceDetector
from facedet.analysis.reference import ReferenceSCRFD
from facedet.eval.predictions import write_predictions
from facedet.eval.wider import evaluate_wider_dir
from facedet.eval.wider_gt import load_ground_truth
from facedet.types import Detections


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["scrfd_500m", "scrfd_2.5g"])
    ap.add_argument("--weights-dir", type=Path, default=Path("../shared/weights/scrfd"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data/widerface"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    images_dir = args.data / "WIDER_val/images"
    gt = load_ground_truth(args.data / "ground_truth")
    files = sorted(images_dir.rglob("*.jpg"))
    imgs = {(f.parent.name, f.stem): cv2.imread(str(f)) for f in files}
    rows = []
    for name in args.models:
        onnx = args.weights_dir / f"{name}.onnx"
        ref = ReferenceSCRFD(str(onnx), threads=args.threads, thresh=0.02, nms_thresh=0.4)
        pipelines = {
            "reference (official ONNX)": lambda im, r=ref: Detections(*r.detect(im)),
            "facedet torch, imported": FaceDetector(name, weights=onnx, score_threshold=0.02).detect,
            "facedet torch, imported, no clip": FaceDetector(name, weights=onnx, score_threshold=0.02,
                                                             clip=False).detect,
        }
        for label, fn in pipelines.items():
            with tempfile.TemporaryDirectory() as d:
                write_predictions(d, {k: fn(im) for k, im in imgs.items()})
                res, _ = evaluate_wider_dir(d, gt, images_dir=images_dir)
            rows.append((name, label, res.aps))
            print(f"{name:12s} {label:34s} " + " ".join(f"{k} {v:.4f}" for k, v in res.aps.items()), flush=True)
    print("\n| model | pipeline | Easy | Medium | Hard | All |\n|---|---|---|---|---|---|")
    for name, label, aps in rows:
        print(f"| {name} | {label} | " + " | ".join(f"{aps[k]:.4f}" for k in ("easy", "medium", "hard", "all")) + " |")


if __name__ == "__main__":
    main()
