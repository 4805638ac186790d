"""Run an EXTD model over WIDER FACE val images, write the official prediction layout, score it.

Single scale = the image at its own resolution (the base pass ``min(1, max_shrink)`` of the
reference test); multi = the S3FD multi-scale + flip pyramid with box voting (``facedet.tta``),
as clovaai/EXTD_Pytorch ``wider_test.py``. Per pass: softmax, conf > 0.05, top 5000, NMS 0.3,
keep 750. Output lines follow ``wider_test.py``: ``x y (x2-x1+1) (y2-y1+1) score``.

The ONNX Runtime backend (default) runs the same network exported from our PyTorch module; on a
CPU it is 1.8x faster than eager PyTorch for EXTD-32 (1 thread, ``benchmarks/bench_families.py``).

Example (dev-val-144, the 144 val images present)::

    nice -n 10 .venv/bin/python benchmarks/eval_extd.py --weights ../shared/weights/extd/EXTD_64.pth \
        --images ../shared/data/widerface/WIDER_val/images --gt ../shared/data/widerface/ground_truth \
        --out runs/extd64_single --mode single --threads 2

Measured (official weights through facedet, dev-val-144 = the 144 val images present; AP %
easy / medium / hard; NOT comparable with full-val numbers; 2-core shared CPU, ORT backend;
"sub48" = every 3rd image, ``--every 3``):

    model     test                              dev-val-144              sub48
    EXTD-32   single (original resolution)      86.47 / 86.45 / 80.65    85.44 / 84.63 / 84.00
    EXTD-48   single                            88.40 / 87.91 / 82.97    86.97 / 86.06 / 86.32
    EXTD-64   single                            88.88 / 89.09 / 83.80    87.92 / 88.62 / 86.88
    EXTD-32   multi-scale + flip + box vote     -                        85.93 / 85.71 / 87.79
    EXTD-64   multi-scale + flip + box vote     90.01 / 90.11 / 87.30    87.67 / 88.72 / 89.97
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from facedet.families import family_of
from facedet.families.extd import build_extd
from facedet.families.extd.convert import extd_from_official
from facedet.models.detector import DetectorInfo
from facedet.postprocess import Frame, Settings
from facedet.tta import PyramidTest, max_shrink_extd, resize_by


def load_model(weights: str, preset: str | None) -> torch.nn.Module:
    """Official .pth (``preset=None``, width inferred) or our checkpoint of ``preset`` (``{"model": sd}`` or bare)."""
    if preset is None:
        return extd_from_official(weights)
    model = build_extd(preset)
    state = torch.load(weights, map_location="cpu", weights_only=False)
    for key in ("model", "state_dict", "weights"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    model.load_state_dict(state)
    return model.eval()


class _Flat(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        out = self.model(x)
        return (*out.cls, *out.reg)


def make_detector(model: torch.nn.Module, backend: str, threads: int):
    """``detect(bgr_image, shrink) -> (N, 5)`` in original-image pixels."""
    mean = np.asarray(model.input_mean, dtype=np.float32)
    # the official Detect: conf > 0.05, top 5000, NMS 0.3, keep 750 (the EXTD family's defaults)
    post = family_of(model).postprocess(DetectorInfo.of(model), Settings(0.05, 0.3, clip=False), model)
    if backend == "ort":
        import onnxruntime as ort

        path = Path(tempfile.mkdtemp()) / "extd.onnx"
        torch.onnx.export(
            _Flat(model).eval(), torch.zeros(1, 3, 640, 640), str(path), input_names=["images"],
            dynamic_axes={"images": {2: "h", 3: "w"}}, opset_version=17, dynamo=False,
        )
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def detect(image: np.ndarray, shrink: float) -> np.ndarray:
        img = resize_by(image, shrink)
        x = (img[..., ::-1].astype(np.float32) - mean).transpose(2, 0, 1)[None]
        x = np.ascontiguousarray(x)
        h, w = img.shape[:2]
        frame = Frame(shrink, (0, 0), (h, w))
        if backend == "ort":
            outs = sess.run(None, {"images": x})
            (det,) = post.numpy(dict(zip(post.output_names, outs, strict=True)), [frame])
        else:
            with torch.inference_mode():
                (det,) = post.torch(model(torch.from_numpy(x)), [frame])
        return np.concatenate([det.boxes, det.scores[:, None]], axis=1).reshape(-1, 5)

    return detect


def write_wider(path: Path, event: str, name: str, dets: np.ndarray, plus_one: bool = True) -> None:
    """One prediction file as ``wider_test.py`` writes it (``plus_one``: w = x2 - x1 + 1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    e = 1.0 if plus_one else 0.0
    lines = [f"{event}/{name}.jpg", str(len(dets))]
    lines += [f"{d[0]:.1f} {d[1]:.1f} {d[2] - d[0] + e:.1f} {d[3] - d[1] + e:.1f} {d[4]:.3f}" for d in dets]
    path.write_text("\n".join(lines) + "\n")


def subset_dir(root: Path, images: list[Path]) -> Path:
    """A folder of symlinks ``event/name.jpg`` so the evaluator selects exactly these images."""
    for p in images:
        link = root / p.parent.name / p.name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(p.resolve())
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--preset", default=None, help="our checkpoint of this preset; omit for an official .pth")
    ap.add_argument("--images", required=True, help="WIDER_val/images")
    ap.add_argument("--gt", default=None, help="ground_truth dir; scores with `facedet eval wider` if given")
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["single", "multi"], default="single")
    ap.add_argument("--backend", choices=["ort", "torch"], default="ort")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None, help="first N images only (smoke runs)")
    ap.add_argument("--every", type=int, default=1, help="every K-th image (sorted) only: a smaller subset")
    ap.add_argument("--skip-existing", action="store_true", help="keep prediction files already in --out")
    ap.add_argument("--no-plus-one", action="store_true", help="write w = x2 - x1 (reference writes +1)")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    model = load_model(args.weights, args.preset)
    detect = make_detector(model, args.backend, args.threads)
    pyramid = PyramidTest(max_shrink=max_shrink_extd)
    images = sorted(Path(args.images).glob("*/*.jpg"))[:: args.every][: args.limit]
    if not images:
        raise FileNotFoundError(f"no */*.jpg under {args.images}")
    out = Path(args.out)
    t0 = time.time()
    for i, p in enumerate(images):
        target = out / p.parent.name / f"{p.stem}.txt"
        if args.skip_existing and target.is_file():
            continue
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot read image {p}")
        if args.mode == "single":
            dets = detect(img, min(1.0, max_shrink_extd(*img.shape[:2])))
        else:
            dets = pyramid(detect, img)
        write_wider(target, p.parent.name, p.stem, dets, not args.no_plus_one)
        if (i + 1) % 16 == 0:
            print(f"{i + 1}/{len(images)} images, {time.time() - t0:.0f} s", flush=True)
    print(f"wrote {len(images)} prediction files to {out} in {time.time() - t0:.0f} s")
    if args.gt:
        images_dir = args.images
        if args.every > 1 or args.limit is not None:  # score only the processed subset
            images_dir = str(subset_dir(out / "_images", images))
        cmd = [sys.executable, "-m", "facedet", "eval", "wider", "--pred", str(out), "--gt", args.gt,
               "--images", images_dir, "--json"]
        print("$", " ".join(cmd), flush=True)
        return subprocess.call(cmd, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
