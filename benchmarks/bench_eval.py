"""Speed of the WIDER FACE evaluator on the real full val ground truth, one thread.

    python benchmarks/bench_eval.py [--gt ../shared/data/widerface/ground_truth] [--runs 5]

A deterministic synthetic prediction set (about 40k detections: every valid gt box jittered and kept
with a size-dependent probability, plus random false positives) is written once to a temporary
folder. Phases timed separately (median of ``--runs``): loading the four ``.mat`` files, reading the
3,226 prediction files the MATLAB way, and evaluating the four settings. Also prints the APs, and how
far ``score_precision="single"`` (MATLAB's mixed single/double arithmetic) moves them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from facedet.eval.predictions import read_predictions, write_predictions  # noqa: E402
from facedet.eval.wider import evaluate_wider  # noqa: E402
from facedet.eval.wider_gt import WiderGroundTruth, load_ground_truth  # noqa: E402


def synthetic_predictions(gt: WiderGroundTruth, seed: int = 0, fp_per_image: int = 4) -> dict:
    """Jittered gt boxes (recall rising with face size) and random false positives, fixed seed."""
    rng = np.random.default_rng(seed)
    preds = {}
    for im in gt.images:
        b = im.boxes_xywh
        h = np.maximum(b[:, 3], 1.0)
        found = rng.random(len(b)) < np.clip(0.3 + h / 60.0, 0, 0.97)
        tp = b[found] + rng.normal(0, 1, (int(found.sum()), 4)) * np.maximum(h[found, None] * 0.08, 0.5)
        tp_sc = np.clip(0.4 + h[found] / 100.0 + rng.normal(0, 0.15, len(tp)), 0.02, 1.0)
        n_fp = int(rng.poisson(fp_per_image))
        fp = np.concatenate([rng.uniform(0, 900, (n_fp, 2)), rng.uniform(8, 80, (n_fp, 2))], 1)
        fp_sc = rng.uniform(0.02, 0.7, n_fp)
        rows = np.concatenate([np.concatenate([tp, fp]), np.concatenate([tp_sc, fp_sc])[:, None]], 1)
        preds[(im.event, im.name)] = np.round(rows, 3)
    return preds


def _median_time(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gt", default="../shared/data/widerface/ground_truth", help="folder of the four .mat files")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--fddb", default=None, help="also time FDDB on these folds (made-up 450x450 image sizes)")
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    t_gt, gt = _median_time(lambda: load_ground_truth(args.gt), args.runs)
    preds = synthetic_predictions(gt)
    n_det = sum(len(v) for v in preds.values())
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_predictions(tmp, preds, keys=gt.keys)
        t_write = time.perf_counter() - t0
        t_read, (read, report) = _median_time(lambda: read_predictions(tmp, gt.keys), args.runs)
    assert not report.missing and not report.invalid
    t_eval, res = _median_time(lambda: evaluate_wider(read, gt), args.runs)
    single = evaluate_wider(read, gt, score_precision="single")

    print(f"WIDER val evaluator: {len(gt)} images, {sum(len(i.boxes_xywh) for i in gt.images)} gt boxes, "
          f"{n_det} detections, 1 thread, median of {args.runs}")
    print(f"{'phase':<34} {'seconds':>8}")
    print(f"{'load ground truth (4 .mat)':<34} {t_gt:>8.3f}")
    print(f"{'write predictions (once)':<34} {t_write:>8.3f}")
    print(f"{'read predictions (3,226 files)':<34} {t_read:>8.3f}")
    print(f"{'evaluate easy/medium/hard/all':<34} {t_eval:>8.3f}")
    print(f"{'total (load + read + evaluate)':<34} {t_gt + t_read + t_eval:>8.3f}")
    print()
    print(f"{'setting':<8} {'AP double':>10} {'AP single':>10} {'faces':>7}")
    for name, s in res.settings.items():
        print(f"{name:<8} {s.ap:>10.6f} {single.settings[name].ap:>10.6f} {s.num_faces:>7d}")
    if args.fddb:
        bench_fddb(args.fddb)


def bench_fddb(folds_dir: str, seed: int = 0) -> None:
    """FDDB evaluator on the real 10 folds with jittered ellipse boxes + 5 false positives per image."""
    from facedet.data.fddb import ellipse_to_box, load_fddb_folds
    from facedet.eval.fddb import evaluate_fddb

    images = load_fddb_folds(folds_dir)
    rng = np.random.default_rng(seed)
    dets = {}
    for im in images:
        b = ellipse_to_box(im.ellipses)
        b[:, 2:] -= b[:, :2]
        b += rng.normal(0, 3, b.shape)
        fp = np.concatenate([rng.uniform(0, 400, (5, 2)), rng.uniform(10, 80, (5, 2))], 1)
        sc = np.concatenate([rng.uniform(0.5, 1, len(b)), rng.uniform(0, 0.8, 5)])
        dets[im.name] = np.concatenate([np.concatenate([b, fp]), sc[:, None]], 1)
    t0 = time.perf_counter()
    res = evaluate_fddb(dets, images, {im.name: (450, 450) for im in images})
    dt = time.perf_counter() - t0
    print()
    print(f"FDDB: {len(images)} images, {res.roc.num_faces} faces, {res.num_detections} rectangle detections: "
          f"{dt:.3f} s; TPR@1000FP disc {res.tpr_disc_at:.4f} cont {res.tpr_cont_at:.4f}")


if __name__ == "__main__":
    main()
