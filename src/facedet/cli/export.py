"""``facedet export``: a zoo model to ONNX (insightface layout, dynamic batch and size) + parity check."""

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
    print(json.dumps({"onnx": str(path), "max_abs_diff": diff, "parity": ok}))
    return 0 if ok else 1
