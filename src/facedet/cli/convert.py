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
    import dataclasses

    import torch

    from ..atomic import refuse_overwriting_input
    from ..engine.checkpoint import save_atomic
    from ..families import guess_preset
    from ..zoo import build_model, entry, list_models, sha256_file

    torch.set_num_threads(2)
    src = Path(args.onnx)
    if not src.is_file():
        raise FileNotFoundError(f"ONNX file not found: {src}")
    refuse_overwriting_input(args.out, src)
    name = args.model or (src.stem if src.stem in list_models() else guess_preset(src))
    if name not in list_models():
        raise ValueError(f"unknown --model {name!r} (one of {', '.join(list_models())})")
    importer = entry(name).importer
    if importer is None:
        raise ValueError(f"{name} has no importer of official files")
    model = build_model(name)
    options = {"calibration": _calibration(args.calib_images, args.calib_size, model)} if args.calib_images else {}
    try:
        rep = importer(model, src, **options)
    except (KeyError, IndexError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"{src}: not an official {name} export the importer can read "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from None
    out = Path(args.out)
    arch = getattr(model, "config", None)
    save_atomic({"model": model.state_dict(), "arch": name,
                "config": dataclasses.asdict(arch) if dataclasses.is_dataclass(arch) else {},
                 "source": {"file": src.name, "sha256": sha256_file(src)}}, out)
    print(f"{src.name} -> {out}: {rep}")
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
