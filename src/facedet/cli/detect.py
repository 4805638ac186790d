"""``facedet detect``: JSON lines on stdout, annotated images, official WIDER prediction files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
WIDER_EVAL_THRESHOLD = 0.02  # low threshold the WIDER protocol needs for a full PR curve


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="detect faces in images or folders")
    p.add_argument("paths", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--model", default="scrfd_500m", help="zoo name or .onnx file")
    p.add_argument("--weights", default=None, help="facedet .pt checkpoint or official .onnx")
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    p.add_argument("--threshold", type=float, default=None,
                   help=f"score threshold (default 0.5, or {WIDER_EVAL_THRESHOLD} with --wider-out)")
    p.add_argument("--nms", type=float, default=0.4, help="NMS IoU threshold")
    p.add_argument("--input-size", type=int, nargs=2, metavar=("W", "H"), default=[640, 640])
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="folder for annotated images")
    p.add_argument("--wider-out", type=Path, default=None,
                   help="folder for the official WIDER prediction layout <event>/<name>.txt")
    p.set_defaults(func=run)


def iter_images(paths: list[str]) -> list[Path]:
    """Expand folders into their image files (sorted); keep files as given."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_EXTS)
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return files


def run(args: argparse.Namespace) -> int:
    import cv2
    from tqdm import tqdm

    from ..api import FaceDetector
    from ..draw import draw_detections
    from ..eval.predictions import write_predictions
    from ..io import read_image

    files = iter_images(args.paths)
    thr = args.threshold if args.threshold is not None else (
        WIDER_EVAL_THRESHOLD if args.wider_out else 0.5)
    det = FaceDetector(args.model, weights=args.weights, backend=args.backend, score_threshold=thr,
                       nms_threshold=args.nms, input_size=tuple(args.input_size), num_threads=args.threads)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for f in tqdm(files, desc="detect", unit="img", disable=len(files) < 5 or not sys.stderr.isatty()):
        try:
            img = read_image(f)
        except ValueError as exc:
            print(f"facedet detect: skipping {f}: {exc}", file=sys.stderr)
            continue
        dets = det.detect(img)
        print(json.dumps({"path": str(f), **dets.to_dict()}), flush=True)
        if args.out:
            cv2.imwrite(str(args.out / f"{f.stem}.jpg"), draw_detections(img, dets))
        if args.wider_out:
            write_predictions(args.wider_out, {(f.parent.name, f.stem): dets})
    return 0
