"""Accuracy against latency: facedet configurations beside YuNet, ULFD and Haar, in one run.

For every detector: dev-val-144 AP (Easy / Medium / Hard, the official protocol over the images
present) and the median end-to-end latency (pre-processing + network + post-processing of a decoded
image) at 640x480 and 1280x720 with 1 and 2 threads, measured interleaved in rounds
(``facedet.analysis.bench.run``). Accuracy runs at the evaluation threshold (0.02 for ours and the
peers that score); latency at each detector's operating threshold (ours 0.5, YuNet 0.6, ULFD 0.7).

facedet rows are ``FaceDetector`` configurations on ONNX Runtime (their keyword arguments are the
``config`` column): the official SCRFD files and our packaged weights, at the 640x640 letterbox, at
native size with the long side capped (640, 1024: the default), fp32 and INT8 (static QDQ, calibrated
on 64 WIDER train images at long side 1024, the stride-2 and -4 layers left float;
``facedet.export.quantize``); EXTD-32/48/64 with their official weights at the default.
Group Sampling presets have no official weights and are left out. Peers: YuNet on ONNX Runtime with
OpenCV's decoding (the dynamic file; native size, as OpenCV runs it) and through
``cv2.FaceDetectorYN`` (a static copy per size), ULFD-RFB-640 and OpenCV's Haar cascade where the build has one.

usage: python benchmarks/frontier.py [--shared ../shared] [--rounds 20] [--json] [--png docs/frontier.png]
       [--max-images N] [--quick] [--work runs/frontier]   (--quick: one size, one thread count, fewer configurations)
``--json`` prints one JSON list (rows: detector, config, easy, medium, hard, ms = median ms at 640x480,
1 thread, plus ms_* for every size and thread count) and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facedet.analysis.bench import run as run_latency
from facedet.analysis.peers import Haar, UltraLight, YuNet, YuNetORT
from facedet.api import FaceDetector
from facedet.engine.wider_eval import resolve_val_root
from facedet.eval.wider import evaluate_wider
from facedet.eval.wider_gt import load_ground_truth

Detect = Callable[[np.ndarray], np.ndarray]  # BGR image -> (N, 5) x1 y1 x2 y2 score


@dataclass
class Candidate:
    name: str
    config: dict[str, Any] | None  # FaceDetector kwargs (facedet rows); None for peers
    make: Callable[[int, float], Detect]  # (threads, score threshold) -> detect
    eval_thr: float = 0.02
    run_thr: float = 0.5
    result: dict[str, float] = field(default_factory=dict)


def _ours(config: dict[str, Any]) -> Callable[[int, float], Detect]:
    def make(threads: int, thr: float) -> Detect:
        det = FaceDetector(**config, backend="onnx", num_threads=threads, score_threshold=thr)

        def detect(img: np.ndarray) -> np.ndarray:
            d = det.detect(img)
            return np.column_stack([d.boxes, d.scores]) if len(d) else np.zeros((0, 5), np.float32)

        return detect

    return make


def candidates(shared: Path, work: Path, quick: bool) -> list[Candidate]:
    """Every configuration of the run (INT8 files are made in ``work``)."""
    from facedet.export.quantize import quantize_int8, spread
    from facedet.pretrained import default_weights

    weights = shared / "weights"
    calib = spread(sorted((shared / "data" / "widerface" / "WIDER_train" / "images").glob("*/*.jpg")), 64)
    files: dict[str, tuple[str, Path]] = {}  # label -> (FaceDetector model argument, its ONNX file)
    for name in ("scrfd_500m", "scrfd_1g", "scrfd_2.5g"):
        f = weights / "scrfd" / f"{name}.onnx"
        if f.is_file():
            files[f"{name} official"] = (str(f), f)
    if default_weights("scrfd_500m") is not None:  # our packaged weights (the zoo name), exported once
        exported = FaceDetector("scrfd_500m", backend="onnx").ort.path  # type: ignore[union-attr]
        files["scrfd_500m facedet"] = ("scrfd_500m", exported)
    preprocess: list[tuple[str, dict[str, Any]]] = [
        ("letterbox 640", {"input_size": (640, 640)}),
        ("native <=640", {"input_size": None, "max_side": 640}),
        ("native <=1024", {"input_size": None, "max_side": 1024}),
    ]
    if quick:
        preprocess = preprocess[1:2]
        files = dict(list(files.items())[:1] + [kv for kv in files.items() if "facedet" in kv[0]])
    out: list[Candidate] = []
    for label, (model, path) in files.items():
        variants = [("fp32", model)]
        if calib and ("500m" in label):
            q = work / f"{label.replace(' ', '_')}_int8.onnx"
            if not q.is_file():
                quantize_int8(path, q, calib)
            variants.append(("int8", str(q)))
        for precision, f in variants:
            for pre_name, pre in preprocess:
                config = {"model": f, **pre}
                out.append(Candidate(f"{label} {precision} {pre_name}", config, _ours(config)))
    for width in (32, 48, 64):  # EXTD with its official weights, at the default pre-processing
        f = weights / "extd" / f"EXTD_{width}.pth"
        if f.is_file() and not quick:
            config = {"model": f"extd_fpn_{width}", "weights": str(f), "input_size": None, "max_side": 1024}
            out.append(Candidate(f"extd_fpn_{width} official fp32 native <=1024", config, _ours(config)))
    yunet = weights / "peers" / "yunet_n_dynamic.onnx"
    if yunet.is_file():
        out.append(Candidate("yunet_n onnxruntime native", None,
                             lambda t, thr: YuNetORT(yunet, threads=t, score=thr), eval_thr=0.02, run_thr=0.6))
        cache = work / "yunet"
        out.append(Candidate("yunet_n opencv FaceDetectorYN native", None,
                             lambda t, thr: YuNet(yunet, threads=t, score=thr, cache_dir=cache),
                             eval_thr=0.02, run_thr=0.6))
    ulfd = weights / "peers" / "ulfd_rfb_640.onnx"
    if ulfd.is_file():
        out.append(Candidate("ulfd_rfb_640 onnxruntime", None, lambda t, thr: UltraLight(ulfd, threads=t, score=thr),
                             eval_thr=0.02, run_thr=0.7))
    if Haar.available():
        out.append(Candidate("haar opencv", None, lambda t, thr: Haar(threads=t), eval_thr=1.0, run_thr=1.0))
    return out


def val_items(shared: Path) -> tuple[list[tuple[tuple[str, str], Path]], Any, Path]:
    """The dev-val images present on disk as ``((event, name), path)``, the ground truth, and the images folder."""
    images_dir, gt_dir = resolve_val_root(shared / "data" / "widerface")
    gt = load_ground_truth(gt_dir)
    items = [(k, images_dir / k[0] / f"{k[1]}.jpg") for k in gt.keys]
    return [(k, p) for k, p in items if p.is_file()], gt, images_dir


def evaluate(cand: Candidate, images: list[tuple[tuple[str, str], Path]], gt: object, images_dir: Path) -> None:
    """dev-val AP of one candidate at its evaluation threshold (2 threads)."""
    detect = cand.make(2, cand.eval_thr)
    preds = {}
    for key, path in images:
        rows = detect(cv2.imread(str(path)))
        xywh = rows.astype(np.float64).copy()
        xywh[:, 2:4] -= xywh[:, :2]
        preds[key] = xywh
    res = evaluate_wider(preds, gt, images_dir=images_dir, subset=[k for k, _ in images])  # type: ignore[arg-type]
    cand.result.update({s: round(float(res.aps[s]), 4) if np.isfinite(res.aps[s]) else None
                        for s in ("easy", "medium", "hard")})


def plot(cands: list[Candidate], png: Path) -> None:
    """AP (three panels) against 640x480 1-thread latency, log x."""
    from facedet.eval.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), sharex=True)
    for ax, subset in zip(axes, ("easy", "medium", "hard"), strict=True):
        for c in cands:
            ms, ap = c.result.get("ms"), c.result.get(subset)
            if ms is None or ap is None:
                continue
            peer = c.config is None
            ax.scatter(ms, ap, marker="s" if peer else "o", color="tab:red" if peer else (
                "tab:green" if "facedet" in c.name else "tab:blue"), alpha=0.8)
            ax.annotate(c.name.replace(" onnxruntime", ""), (ms, ap), fontsize=6, xytext=(3, 2),
                        textcoords="offset points")
        ax.set_xscale("log")
        ax.set_title(f"dev-val-144 {subset} AP")
        ax.set_xlabel("median ms, 640x480, 1 thread (log)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("AP")
    fig.suptitle("facedet (circles: blue official weights, green ours) vs peers (red squares)")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=130)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path("../shared"))
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--max-images", type=int, default=0, help="evaluate on the first N val images only")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--png", type=Path, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", type=Path, default=Path("runs/frontier"), help="INT8 files and YuNet copies")
    args = ap.parse_args()
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else print

    items, gt, images_dir = val_items(args.shared)
    if args.max_images:
        items = items[: args.max_images]
    args.work.mkdir(parents=True, exist_ok=True)
    cands = candidates(args.shared, args.work, args.quick)
    for c in cands:
        evaluate(c, items, gt, images_dir)
        log(f"AP {c.name}: {c.result}")
    sizes = [(640, 480)] if args.quick else [(640, 480), (1280, 720)]
    threads = [1] if args.quick else [1, 2]
    specs = [(c.name, "", lambda t, c=c: c.make(t, c.run_thr)) for c in cands]
    sample = args.shared / "data" / "widerface" / "WIDER_val" / "images" / "0--Parade" / \
        "0_Parade_marchingband_1_465.jpg"
    rows = run_latency(specs, sizes, threads, rounds=args.rounds, sample=sample, progress=not args.json)
    by_name = {c.name: c for c in cands}
    for r in rows:
        c = by_name[r.detector]
        c.result[f"ms_{r.size}_t{r.threads}"] = round(r.median_ms, 2)
        if r.size == "640x480" and r.threads == 1:
            c.result["ms"] = round(r.median_ms, 2)
    table = [{"detector": c.name, "config": c.config, **c.result} for c in cands]
    if args.json:
        print(json.dumps(table))
    else:
        keys = sorted({k for row in table for k in row if k.startswith("ms_")})
        print("| detector | easy | medium | hard | " + " | ".join(keys) + " |")
        print("|---|---|---|---|" + "---|" * len(keys))
        for row in table:
            cells = [row.get(k, "") for k in ("easy", "medium", "hard", *keys)]
            print(f"| {row['detector']} | " + " | ".join(str(v) for v in cells) + " |")
    if args.png:
        plot(cands, args.png)
        log(f"plot -> {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
