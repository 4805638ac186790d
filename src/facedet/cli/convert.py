"""``facedet convert ONNX --model NAME --out model.pt``: official SCRFD ONNX -> facedet checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path


def _calibration(paths: list[str], size: int, model: object) -> object:
    import torch

    from ..io import read_image
    from ..preprocess import Letterbox, normalize

    box = Letterbox((size, size))
    canvases = [box(read_image(p))[0] for p in paths]
    blob = normalize(canvases, model.input_mean, model.input_std, model.input_rgb)  # type: ignore[attr-defined]
    return torch.from_numpy(blob)


def _run(args: argparse.Namespace) -> int:
    import torch

    from ..convert.scrfd_onnx import guess_preset, import_scrfd_onnx
    from ..zoo import build_model, list_models, sha256_file

    torch.set_num_threads(2)
    src = Path(args.onnx)
    if not src.is_file():
        raise FileNotFoundError(f"ONNX file not found: {src}")
    name = args.model or (src.stem if src.stem in list_models() else guess_preset(src))
    if name not in list_models():
        raise ValueError(f"unknown --model {name!r} (one of {', '.join(list_models())})")
    model = build_model(name)
    calib = _calibration(args.calib_images, args.calib_size, model) if args.calib_images else None
    rep = import_scrfd_onnx(model, src, calibration=calib)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "arch": name, "config": model.config_dict(),
                "source": {"file": src.name, "sha256": sha256_file(src)}}, out)
    print(f"{src.name} -> {out}: {rep.convs} convs, {rep.gn} GN, {rep.bn} BN, {rep.folded_bn} folded BN "
          f"({'un-folded with calibration' if calib is not None else 'identity BN + bias'}), {rep.scales} scales")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("convert", help="import an official SCRFD .onnx into a facedet .pt checkpoint")
    p.add_argument("onnx", help="official SCRFD ONNX export")
    p.add_argument("--model", help="zoo preset (default: the file's stem if a preset, else guessed from the graph)")
    p.add_argument("--out", required=True, help="output .pt (dict with 'model' state dict, 'arch', 'config')")
    p.add_argument("--calib-images", nargs="*", default=[], metavar="IMG",
                   help="images used to un-fold BatchNorms that onnx-simplifier folded (keeps fine-tuning sane)")
    p.add_argument("--calib-size", type=int, default=640, help="letterbox size of calibration images")
    p.set_defaults(func=_run)
