"""``facedet export``: a zoo model to ONNX (insightface layout, dynamic batch and size) + parity check, and
with ``--int8 IMAGES`` its INT8 copy (``facedet.export.quantize``) calibrated on those images."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a model to ONNX and check torch-vs-ORT parity")
    p.add_argument("model", help="zoo name, e.g. scrfd_500m")
    p.add_argument("--weights", default=None, help="facedet .pt, official .onnx, or 'official' (download)")
    p.add_argument("--out", type=Path, required=True, help="output .onnx path")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: facedet.export.onnx.DEFAULT_OPSET)")
    p.add_argument("--static", action="store_true", help="fixed batch 1 and size (--size) instead of dynamic axes")
    p.add_argument("--size", type=int, nargs=2, metavar=("W", "H"), default=[640, 640])
    p.add_argument("--tolerance", type=float, default=1e-4, help="max |torch - ORT| accepted")
    p.add_argument("--int8", type=Path, default=None, metavar="IMAGES",
                   help="also write OUT's INT8 copy (<out>.int8.onnx), calibrated on the images in this folder")
    p.add_argument("--calib-images", type=int, default=64, help="how many of --int8's images calibrate (spread evenly)")
    p.add_argument("--float-stride", type=int, default=8,
                   help="INT8: convolutions on maps finer than 1/N of the input stay float (1: quantise all)")
    p.add_argument("--calib-side", type=int, default=1024, help="INT8: long side of the calibration inputs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..api import resolve_model
    from ..atomic import refuse_overwriting_input
    from ..checks import integer, number
    from ..export.onnx import DEFAULT_OPSET, check_parity, export_onnx

    for v in args.size:
        if integer("--size", v, minimum=32) % 32:
            raise ValueError(f"--size must be multiples of 32, got {args.size}")
    if args.opset is not None and not 11 <= integer("--opset", args.opset) <= 20:
        raise ValueError(f"--opset must be between 11 and 20 (what torch's exporter writes), got {args.opset}")
    number("--tolerance", args.tolerance, 0.0, strict=True)
    refuse_overwriting_input(args.out, args.weights, args.model)
    calib = _calibration_images(args) if args.int8 is not None else []
    model = resolve_model(args.model, weights=args.weights)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.part{out.suffix}")  # written whole, then moved into place
    try:
        export_onnx(model, tmp, input_size=tuple(args.size), opset=args.opset or DEFAULT_OPSET,
                    dynamic=not args.static)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    path = out
    # check at another size (and batch 2) when dynamic, so the dynamic axes are exercised
    size, batch = (tuple(args.size), 1) if args.static else ((480, 352), 2)
    diff = check_parity(model, path, input_size=size, batch=batch)
    ok = diff <= args.tolerance
    report: dict[str, object] = {"onnx": str(path), "max_abs_diff": diff, "parity": ok}
    if calib and ok:
        from ..export.quantize import quantize_int8

        q = out.with_name(f"{out.stem}.int8{out.suffix}")
        qtmp = q.with_name(f".{q.stem}.part{q.suffix}")
        try:
            quantize_int8(path, qtmp, calib, max_side=args.calib_side, float_stride=args.float_stride)
            os.replace(qtmp, q)
        finally:
            qtmp.unlink(missing_ok=True)
        report.update({"int8": str(q), "calibration_images": len(calib)})
    print(json.dumps(report))
    return 0 if ok else 1


def _calibration_images(args: argparse.Namespace) -> list[Path]:
    """``--calib-images`` images of the ``--int8`` folder (recursive), evenly spread over its sorted list."""
    from ..checks import integer

    integer("--calib-images", args.calib_images)
    integer("--float-stride", args.float_stride)
    integer("--calib-side", args.calib_side, minimum=32)
    if not args.int8.is_dir():
        raise FileNotFoundError(f"--int8 {args.int8}: not a folder of calibration images")
    found = sorted(p for p in args.int8.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp"))
    if not found:
        raise ValueError(f"--int8 {args.int8}: no .jpg/.jpeg/.png/.bmp images in it")
    from ..export.quantize import spread

    return spread(found, args.calib_images)
