"""``facedet detect``: JSON lines on stdout, annotated images and videos, official WIDER prediction files.

Videos (``.mp4 .avi .mov .mkv .webm .m4v``) and ``--camera N`` give one JSON line per frame (with its
``frame`` index); ``--out`` writes the annotated video (``.avi`` as MJPG, anything else as MP4).

Outputs never overwrite each other or an input: ``--out`` mirrors each image's path below the folder
it was found in (a file given by itself keeps its name), extension included, so ``a/x.jpg``,
``b/x.jpg`` and ``a/x.png`` stay three files; ``--wider-out`` follows the WIDER layout
``<event>/<name>.txt``, so two inputs that would share a file there are refused before any work.
A file that cannot be read or decoded is skipped with a message naming it; the run goes on, prints a
summary and exits with 1 (the good outputs are written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_EXTS = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}
WIDER_EVAL_THRESHOLD = 0.02  # low threshold the WIDER protocol needs for a full PR curve


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="detect faces in images or folders", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="image or video files, or folders (searched recursively)")
    p.add_argument("--camera", type=int, default=None, metavar="N", help="read frames from camera N instead")
    p.add_argument("--max-frames", type=int, default=None, help="stop a video or camera after N frames")
    p.add_argument("--every", type=int, default=1, help="videos: detect on every N-th frame")
    p.add_argument("--model", default="scrfd_500m", help="zoo name or .onnx file")
    p.add_argument("--weights", default=None, help="facedet .pt checkpoint or official .onnx")
    p.add_argument("--backend", choices=["auto", "torch", "onnx"], default="auto",
                   help="auto (default): ONNX Runtime for an .onnx --model, else torch")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda or cuda:N")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="score threshold of the JSON lines and of --out (default 0.5); --wider-out always "
                        f"keeps every face above {WIDER_EVAL_THRESHOLD}, as the WIDER protocol needs")
    p.add_argument("--nms", type=float, default=0.4, help="NMS IoU threshold")
    p.add_argument("--max-faces", type=int, default=None, help="keep at most N faces per image (see --rank)")
    p.add_argument("--rank", choices=["score", "area", "center"], default="score",
                   help="which faces --max-faces keeps: best score, largest, or large and central (insightface)")
    p.add_argument("--min-face-size", type=float, default=0.0, help="drop faces whose shorter side is below N px")
    p.add_argument("--input-size", nargs="+", default=["native"], metavar="W H | native",
                   help="network input: 'native' (default: each image keeps its aspect ratio, long side capped "
                        "by --max-side, padded to a multiple of 32) or a W H canvas (letterbox, e.g. 640 640)")
    p.add_argument("--max-side", type=int, default=1024,
                   help="with --input-size native: cap the long side (default 1024; 0: no cap)")
    p.add_argument("--multi-scale", action="store_true",
                   help="images: the family's own multi-scale test (DSFD / S3FD pyramid, SRN, Group Sampling; "
                        "several passes an image, as the papers' final numbers)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="folder for annotated images")
    p.add_argument("--wider-out", type=Path, default=None,
                   help="folder for the official WIDER prediction layout <event>/<name>.txt")
    p.set_defaults(func=run)


def parse_input_size(values: list[str]) -> tuple[int, int] | None:
    """``["native"]`` -> None; ``["W", "H"]`` -> ``(W, H)``."""
    if len(values) == 1 and values[0] == "native":
        return None
    if len(values) != 2 or not all(v.isdigit() for v in values):
        raise ValueError(f"--input-size takes W H (two integers) or 'native', got {' '.join(values)!r}")
    return int(values[0]), int(values[1])


def iter_images(paths: list[str]) -> list[tuple[Path, Path]]:
    """``(file, name below its root)`` for every image: folders expanded (sorted, recursively), files
    kept as given with their own name."""
    files: list[tuple[Path, Path]] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += [(f, f.relative_to(p)) for f in sorted(p.rglob("*"))
                      if f.suffix.lower() in IMAGE_EXTS | VIDEO_EXTS and f.is_file()]
        elif p.is_file():
            files.append((p, Path(p.name)))
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    seen: set[Path] = set()  # a file reached twice (given directly and through its folder) runs once
    unique = []
    for f, rel in files:
        if f.resolve() not in seen:
            seen.add(f.resolve())
            unique.append((f, rel))
    return unique


def plan_outputs(files: list[tuple[Path, Path]], out: Path | None, wider_out: Path | None
                 ) -> list[tuple[Path | None, tuple[str, str] | None]]:
    """Each input's annotated-image path and WIDER key; ValueError when two would share one or when
    an output would land on an input."""
    inputs = {f.resolve() for f, _ in files}
    plans: list[tuple[Path | None, tuple[str, str] | None]] = []
    seen_out: dict[Path, Path] = {}
    seen_txt: dict[Path, Path] = {}
    for f, rel in files:
        target = key = None
        if out is not None:
            target = out / rel
            if f.suffix.lower() in VIDEO_EXTS and f.suffix.lower() != ".avi":
                target = target.with_suffix(".mp4")
            elif f.suffix.lower() not in IMAGE_EXTS | VIDEO_EXTS:  # an image OpenCV cannot write by its name
                target = target.with_name(target.name + ".png")
            _claim(target, str(target), f, inputs, seen_out, f"--out {out}",
                   "give their folders separately or rename one")
        if wider_out is not None and f.suffix.lower() not in VIDEO_EXTS:  # the WIDER layout is for images
            key = (f.resolve().parent.name, f.stem)  # the real folder name: never '..' or empty
            _claim(wider_out / key[0] / f"{key[1]}.txt", f"{key[0]}/{key[1]}.txt", f, inputs, seen_txt,
                   f"--wider-out {wider_out}",
                   "the WIDER layout keeps only the folder and the name without extension")
        plans.append((target, key))
    return plans


def _claim(target: Path, shown: str, source: Path, inputs: set[Path], seen: dict[Path, Path], flag: str,
           hint: str) -> None:
    """Reserve ``target`` for ``source``: ValueError when it is an input or already another input's output."""
    resolved = target.resolve()
    if resolved in inputs:
        raise ValueError(f"{flag} would overwrite the input {resolved}; choose another folder")
    if resolved in seen:
        raise ValueError(f"{flag}: {source} and {seen[resolved]} would both write {shown} ({hint})")
    seen[resolved] = source


def run(args: argparse.Namespace) -> int:
    import cv2
    from tqdm import tqdm

    from ..api import FaceDetector
    from ..checks import fraction, integer
    from ..draw import draw_detections
    from ..eval.predictions import write_predictions
    from ..io import read_image

    fraction("--threshold", args.threshold)  # before the model loads: fail fast
    integer("--every", args.every)
    if args.max_frames is not None:
        integer("--max-frames", args.max_frames)
    if args.camera is None and not args.paths:
        raise ValueError("give image or video paths, or --camera N")
    files = iter_images(args.paths)
    plans = plan_outputs(files, args.out, args.wider_out)
    input_size = parse_input_size(args.input_size)
    max_side = None if args.max_side == 0 else args.max_side
    low = min(args.threshold, WIDER_EVAL_THRESHOLD) if args.wider_out else args.threshold
    det = FaceDetector(args.model, weights=args.weights, backend=args.backend, score_threshold=low,
                       nms_threshold=args.nms, input_size=input_size, max_side=max_side,
                       device=args.device, num_threads=args.threads, max_faces=args.max_faces, rank=args.rank,
                       min_face_size=args.min_face_size)
    if args.camera is not None:
        target = args.out / f"camera_{args.camera}.mp4" if args.out else None
        _video(det, args.camera, f"camera:{args.camera}", target, args)
        return 0
    skipped: list[str] = []
    bar = tqdm(list(zip(files, plans, strict=True)), desc="detect", unit="file",
               disable=len(files) < 5 or not sys.stderr.isatty())
    for (f, _), (target, key) in bar:
        try:
            if f.suffix.lower() in VIDEO_EXTS:
                _video(det, str(f), str(f), target, args)
                continue
            img = read_image(f)
        except (ValueError, OSError) as exc:
            skipped.append(str(f))
            bar.write(f"facedet detect: skipping {f}: {exc}", file=sys.stderr)
            continue
        dets = det.detect_multiscale(img) if args.multi_scale else det.detect(img)
        shown = dets.select(dets.scores >= args.threshold)
        print(json.dumps({"path": str(f), **shown.to_dict()}), flush=True)
        if target is not None:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if not cv2.imwrite(str(target), draw_detections(img, shown)):
                    raise OSError("OpenCV could not write it")
            except (OSError, cv2.error) as exc:  # this output is lost; the others go on
                skipped.append(str(f))
                bar.write(f"facedet detect: could not write {target}: {' '.join(str(exc).split())[:160]}",
                          file=sys.stderr)
        if key is not None:
            write_predictions(args.wider_out, {key: dets})
    if skipped:
        print(f"facedet detect: {len(files) - len(skipped)} of {len(files)} files done, {len(skipped)} skipped "
              f"(first: {skipped[0]})", file=sys.stderr)
        return 1
    return 0


def _video(det: object, source: str | int, name: str, target: Path | None, args: argparse.Namespace) -> None:
    """JSON lines per frame of a video file or camera; the annotated video to ``target`` when given
    (frames that were not detected on, with ``--every N``, are written with the last faces found)."""
    import cv2

    from ..draw import draw_detections
    from ..io import iter_video_frames, video_fps
    from ..types import Detections

    writer = None
    frames = 0
    last = Detections.empty()
    every = 1 if target is not None else args.every  # a written video gets every frame; detection every N-th
    try:
        for idx, frame in iter_video_frames(source, every=every):
            if args.max_frames is not None and idx >= args.max_frames:
                break
            frames += 1
            if idx % args.every == 0:
                dets = det.detect(frame)  # type: ignore[attr-defined]
                last = dets.select(dets.scores >= args.threshold)
                print(json.dumps({"path": name, "frame": idx, **last.to_dict()}), flush=True)
            if target is not None:
                if writer is None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if target.suffix.lower() == ".avi" else "mp4v"))
                    h, w = frame.shape[:2]
                    writer = cv2.VideoWriter(str(target), fourcc, video_fps(source) if isinstance(source, str) else
                                             25.0, (w, h))
                    if not writer.isOpened():
                        raise OSError(f"{target}: OpenCV cannot write this video (codec or folder)")
                writer.write(draw_detections(frame, last))
    finally:
        if writer is not None:
            writer.release()
    if frames == 0:
        raise ValueError(f"{name}: no frame could be read")
