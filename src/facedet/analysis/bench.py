"""End-to-end detection latency, ours against peers, interleaved in rounds.

Timing covers pre-processing, inference and post-processing of a decoded BGR image (decoding is
excluded). Every configuration (image size x thread count) builds its detectors with that thread
count, warms them up, then times them in rounds — one call of each detector per round — so slow
drifts of the machine hit all of them alike. Reports median and p90 in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

Detect = Callable[[np.ndarray], object]
# name, backend, factory(threads) -> detect callable
Spec = tuple[str, str, Callable[[int], Detect]]


@dataclass
class BenchRow:
    detector: str
    backend: str
    size: str
    threads: int
    median_ms: float
    p90_ms: float

    def as_dict(self) -> dict:
        return asdict(self)


def default_specs(weights_dir: Path, models: tuple[str, ...] = ("scrfd_500m",)) -> list[Spec]:
    """Our SCRFD presets (torch and ORT backends), the official ONNX via the reference pipeline, peers."""
    from ..api import FaceDetector
    from ..families import family_of
    from .peers import Haar, UltraLight, YuNet
    from .reference import ReferenceSCRFD

    specs: list[Spec] = []
    for name in models:
        official = weights_dir / family_of(name).name / f"{name}.onnx"  # <weights>/<family>/<preset>.onnx
        weights = str(official) if official.is_file() else None

        def ours(threads: int, backend: str, name: str = name, weights: str | None = weights) -> Detect:
            from ..api import resolve_model

            model = resolve_model(name, weights)  # the official file when found, else the packaged weights
            return FaceDetector(model, backend=backend, num_threads=threads).detect

        specs.append((f"ours:{name}", "torch", lambda t, f=ours: f(t, "torch")))
        specs.append((f"ours:{name}", "onnxruntime", lambda t, f=ours: f(t, "onnx")))
        if weights is not None:
            # our pipeline on the very same ONNX file as the reference: isolates pre/post-processing
            specs.append((f"ours:{name}", "onnxruntime:official-file",
                          lambda t, w=weights: FaceDetector(w, backend="onnx", num_threads=t).detect))
            specs.append((f"official:{name}", "onnxruntime",
                          lambda t, w=weights: ReferenceSCRFD(w, threads=t, thresh=0.5).detect))
    yunet, ulfd = weights_dir / "peers" / "yunet_n_dynamic.onnx", weights_dir / "peers" / "ulfd_rfb_640.onnx"
    if yunet.is_file():
        specs.append(("yunet", "opencv", lambda t: YuNet(yunet, threads=t)))
    if ulfd.is_file():
        specs.append(("ulfd", "onnxruntime", lambda t: UltraLight(ulfd, threads=t)))
    if Haar.available():  # OpenCV builds without the cascade data (5.x, some wheels) skip it
        specs.append(("haar", "opencv", lambda t: Haar(threads=t)))
    return specs


def bench_image(sample: Path | None, w: int, h: int) -> np.ndarray:
    """The sample photo resized to ``w x h`` (a real crowd scene), or seeded noise if absent."""
    if sample is not None and sample.is_file():
        img = cv2.imread(str(sample))
        if img is not None:
            return cv2.resize(img, (w, h))
    return np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)


def run(specs: list[Spec], sizes: list[tuple[int, int]], threads: list[int], rounds: int = 30,
        warmup: int = 3, sample: Path | None = None, progress: bool = True) -> list[BenchRow]:
    rows: list[BenchRow] = []
    for t in threads:
        torch.set_num_threads(t)
        cv2.setNumThreads(t)
        dets = [(name, backend, factory(t)) for name, backend, factory in specs]
        for w, h in sizes:
            img = bench_image(sample, w, h)
            for _, _, fn in dets:
                for _ in range(warmup):
                    fn(img)
            times = np.zeros((len(dets), rounds))
            for r in range(rounds):
                for i, (_, _, fn) in enumerate(dets):
                    t0 = time.perf_counter()
                    fn(img)
                    times[i, r] = (time.perf_counter() - t0) * 1e3
            for i, (name, backend, _) in enumerate(dets):
                rows.append(BenchRow(name, backend, f"{w}x{h}", t, float(np.median(times[i])),
                                     float(np.percentile(times[i], 90))))
                if progress:
                    print(f"  {name:22s} {backend:12s} {w}x{h} t={t}: {rows[-1].median_ms:.1f} ms", flush=True)
    return rows


def format_table(rows: list[BenchRow], reference: str = "ours:scrfd_500m", ref_backend: str = "onnxruntime") -> str:
    """Markdown table with each row's median as a ratio to ``reference`` at the same size and threads."""
    base = {(r.size, r.threads): r.median_ms for r in rows if r.detector == reference and r.backend == ref_backend}
    lines = ["| detector | backend | size | threads | median ms | p90 ms | x ours |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ref = base.get((r.size, r.threads))
        ratio = f"{r.median_ms / ref:.2f}" if ref else "-"
        lines.append(f"| {r.detector} | {r.backend} | {r.size} | {r.threads} | {r.median_ms:.2f} | {r.p90_ms:.2f} "
                     f"| {ratio} |")
    return "\n".join(lines)


def stage_breakdown(detector, img: np.ndarray, runs: int = 30) -> dict[str, float]:
    """Median ms per stage of a ``FaceDetector`` on the ONNX Runtime backend: the same calls
    ``detect`` makes (letterbox, normalise, network, decode+NMS), timed one by one."""
    from ..postprocess import Frame
    from ..preprocess import normalize

    if detector.ort is None:
        raise ValueError("stage_breakdown needs backend='onnx'")
    h, w = img.shape[:2]
    times: dict[str, list[float]] = {"letterbox": [], "normalise": [], "network": [], "postprocess": []}
    blob = None
    for _ in range(runs):
        t0 = time.perf_counter()
        canvas, scale = detector.preprocess(img)
        t1 = time.perf_counter()
        blob = normalize([canvas], detector.mean, detector.std, detector.rgb, out=blob)
        t2 = time.perf_counter()
        arrays = detector.ort.run(blob)
        t3 = time.perf_counter()
        detector.post.numpy(arrays, [Frame(scale, (h, w), canvas.shape[:2])])
        t4 = time.perf_counter()
        for k, a, b in (("letterbox", t0, t1), ("normalise", t1, t2), ("network", t2, t3), ("postprocess", t3, t4)):
            times[k].append((b - a) * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}
