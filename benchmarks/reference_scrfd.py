"""Run the insightface-style reference SCRFD pipeline over a WIDER image folder.

Writes the official WIDER prediction layout for every image under ``--images``, to compare with
``facedet detect --wider-out`` through ``facedet eval wider``:

    python benchmarks/reference_scrfd.py --onnx ../shared/weights/scrfd/scrfd_500m.onnx \
        --images ../shared/data/widerface/WIDER_val/images --out runs/ref_500m
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from facedet.analysis.reference import ReferenceSCRFD


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--images", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    det = ReferenceSCRFD(args.onnx, threads=args.threads)
    files = sorted(args.images.rglob("*.jpg"))
    t0 = time.perf_counter()
    for f in files:
        boxes, scores = det.detect(cv2.imread(str(f)))
        out = args.out / f.parent.name / f"{f.stem}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            f"{x1:.3f} {y1:.3f} {x2 - x1:.3f} {y2 - y1:.3f} {s:.6f}"
            for (x1, y1, x2, y2), s in zip(boxes, scores, strict=True)
        ]
        out.write_text("\n".join([f.stem, str(len(rows)), *rows]) + "\n")
    print(f"{len(files)} images in {time.perf_counter() - t0:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
