"""``facedet eval {wider,fddb}``: the official WIDER FACE and FDDB protocols from files on disk.

``facedet eval wider --pred DIR --gt GT_DIR [--images IMAGES_DIR] [--json] [--plot PNG] [--out JSON]
  [--by-size SETTING [--size-thr 0.5]]``
  DIR holds ``<event>/<name>.txt`` prediction files; GT_DIR the four official ``.mat`` files. With
  ``--images`` only images present as ``<IMAGES_DIR>/<event>/<name>.jpg`` are evaluated (dev-val-144).
  ``--json`` prints exactly one object ``{"easy", "medium", "hard", "all"}`` on stdout; warnings about
  missing or malformed files go to stderr (``--strict`` makes a malformed file an error). ``--by-size``
  adds a table of that setting's faces by size: recall ceiling, recall at ``--size-thr`` and median
  score (``facedet.eval.wider_sizes``; also under ``"by_size"`` in ``--out``).

``facedet eval fddb --dets FILE --folds DIR --sizes SIZES_FILE [--format rect|ellipse] [--fp 1000]
  [--ellipses FILE] [--ellipse-regressor] [--roc-prefix PREFIX] [--json] [--plot PNG] [--out JSON]``
  FILE is the official detection output (all folds concatenated, or any subset of images); DIR holds
  ``FDDB-fold-XX.txt`` and ``FDDB-fold-XX-ellipseList.txt``; SIZES_FILE gives every image's size, either
  text lines ``<image name> <width> <height>`` or a JSON object ``{name: [width, height]}``. The scalar
  reported is the discrete TPR at ``--fp`` false positives (largest TPR among ROC points with FP <= k).
  ``--ellipse-regressor`` maps rectangles to ellipses with S3FD's FDDB-fitted regressor (report apart).
  ``--roc-prefix`` writes ``<PREFIX>DiscROC.txt`` and ``<PREFIX>ContROC.txt`` in the official format.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="evaluate detections with the WIDER FACE or FDDB protocol")
    sub = p.add_subparsers(dest="protocol", metavar="PROTOCOL")
    sub.required = True

    w = sub.add_parser("wider", help="WIDER FACE val Easy/Medium/Hard (+all) AP, official MATLAB semantics")
    w.add_argument("--pred", required=True, help="prediction folder <event>/<name>.txt")
    w.add_argument("--gt", required=True, help="folder with wider_face_val.mat and wider_{easy,medium,hard}_val.mat")
    w.add_argument("--images", default=None, help="evaluate only images present in this WIDER_val/images folder")
    w.add_argument("--json", action="store_true", help="print one JSON object of APs and nothing else")
    w.add_argument("--plot", default=None, help="save the PR curves to this PNG")
    w.add_argument("--out", default=None, help="save APs, counts and PR curves to this JSON file")
    w.add_argument("--strict", action="store_true",
                   help="a malformed or missing prediction file, or a non-finite or negative-size row, is an error "
                        "(without it they are warnings, and scored as the official code scores them)")
    w.add_argument("--score-precision", choices=("double", "single"), default="double",
                   help="normalisation arithmetic (single emulates MATLAB's mixed single/double rules)")
    w.add_argument("--by-size", choices=("easy", "medium", "hard", "all"), default=None, metavar="SETTING",
                   help="also report that setting's recall per face size (easy, medium, hard or all): a table on "
                        "stdout (not with --json) and 'by_size' in --out")
    w.add_argument("--size-thr", type=float, default=0.5,
                   help="raw detector score in [0, 1] for the --by-size recall column (default 0.5)")
    w.set_defaults(func=_run_wider)

    f = sub.add_parser("fddb", help="FDDB discrete/continuous ROC, official tool semantics")
    f.add_argument("--dets", required=True, help="detection file (name, count, rows per image)")
    f.add_argument("--folds", required=True, help="folder with FDDB-fold-XX.txt and FDDB-fold-XX-ellipseList.txt")
    f.add_argument("--sizes", required=True, help="image sizes: lines '<name> <W> <H>' or JSON {name: [W, H]}")
    f.add_argument("--format", choices=("rect", "ellipse"), default="rect",
                   help="detection rows: 'x y w h score' (rect, -f 0) or 'ra rb theta cx cy score' (-f 1)")
    f.add_argument("--ellipse-regressor", action="store_true",
                   help="map rectangles to ellipses with S3FD's regressor (fitted on FDDB: report separately)")
    f.add_argument("--fold-ids", default="1-10", help="folds to evaluate, e.g. '1-10' or '1,3'")
    f.add_argument("--ellipses", default=None,
                   help="alternative ellipse list for all selected images (e.g. the 5,409-face list)")
    f.add_argument("--fp", type=int, default=1000, help="report TPR at this many false positives")
    f.add_argument("--roc-prefix", default=None, help="write <PREFIX>DiscROC.txt and <PREFIX>ContROC.txt")
    f.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    f.add_argument("--plot", default=None, help="save the ROC curves to this PNG")
    f.add_argument("--out", default=None, help="save the result to this JSON file")
    f.set_defaults(func=_run_fddb)


def _warn(msgs: list[str]) -> None:
    for m in msgs:
        print(f"facedet eval: warning: {m}", file=sys.stderr)


def _run_wider(args: argparse.Namespace) -> int:
    from pathlib import Path

    from facedet.atomic import refuse_overwriting_input
    from facedet.checks import fraction
    from facedet.eval.plots import plot_wider_pr, save_json
    from facedet.eval.wider import evaluate_wider, read_wider_dir
    from facedet.eval.wider_gt import FACE_FILE, SETTINGS, setting_file
    from facedet.eval.wider_sizes import format_size_table, recall_by_size

    gt_dir, pred_dir = Path(args.gt), Path(args.pred)
    inputs = [gt_dir / FACE_FILE, *(gt_dir / setting_file(s) for s in SETTINGS)]
    for flag in ("out", "plot"):
        out = getattr(args, flag)
        if out is not None and Path(out).resolve().parent.parent == pred_dir.resolve():
            inputs.append(Path(out))  # <pred>/<event>/<name>: where the prediction files live
        refuse_overwriting_input(out, *inputs, flag=f"--{flag}")
    fraction("--size-thr", args.size_thr)
    preds, gt, report = read_wider_dir(args.pred, args.gt, images_dir=args.images, strict=args.strict)
    result = evaluate_wider(preds, gt, images_dir=args.images, score_precision=args.score_precision)
    by_size = (recall_by_size(preds, gt, args.by_size, images_dir=args.images, score_thr=args.size_thr)
               if args.by_size else None)
    _warn(report.messages())
    if result.num_images and len(report.missing) >= result.num_images:
        _warn([f"{args.pred} holds none of the {result.num_images} prediction files: every AP below is 0"])
    if args.out:
        save_json({**result.to_dict(), "missing_files": report.missing, "invalid_files": report.invalid,
                   "suspect_rows": report.suspect,
                   **({"by_size": {"setting": args.by_size, "score_thr": args.size_thr,
                                   "bins": [b.to_dict() for b in by_size]}} if by_size else {})},
                  args.out)
    if args.plot:
        plot_wider_pr(result, args.plot)
    if args.json:
        print(json.dumps({k: result.aps[k] for k in ("easy", "medium", "hard", "all")}))
        return 0
    kind = f"subset of {result.num_images} images" if result.subset else f"{result.num_images} images"
    print(f"WIDER FACE val ({kind}, {result.num_detections} detections)")
    print(f"{'setting':<8} {'AP':>8} {'faces':>7}")
    for name, s in result.settings.items():
        print(f"{name:<8} {s.ap:>8.4f} {s.num_faces:>7d}")
    if by_size:
        print()
        print(format_size_table(by_size, args.by_size, args.size_thr))
    return 0


def _fold_ids(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            out.extend(range(int(a), int(b) + 1))
        elif part.strip():
            out.append(int(part))
    if not out or any(not 1 <= i <= 10 for i in out):
        raise ValueError(f"--fold-ids must name folds 1..10, got {text!r}")
    return out


def _run_fddb(args: argparse.Namespace) -> int:
    from facedet.atomic import refuse_overwriting_input
    from facedet.checks import integer
    from facedet.data.fddb import load_fddb_folds
    from facedet.eval.fddb import evaluate_fddb, read_fddb_detections, read_image_sizes, s3fd_rect_to_ellipse
    from facedet.eval.plots import plot_fddb_roc, save_json

    integer("--fp", args.fp)
    from pathlib import Path

    inputs = [Path(args.dets), Path(args.sizes), *Path(args.folds).glob("FDDB-fold-*.txt")]
    if args.ellipses:
        inputs.append(Path(args.ellipses))
    for flag in ("out", "plot"):
        refuse_overwriting_input(getattr(args, flag), *inputs, flag=f"--{flag}")
    if args.roc_prefix:
        for suffix in ("DiscROC.txt", "ContROC.txt"):
            refuse_overwriting_input(f"{args.roc_prefix}{suffix}", *inputs, flag="--roc-prefix")
    images = load_fddb_folds(args.folds, _fold_ids(args.fold_ids), ellipse_file=args.ellipses)
    dets = read_fddb_detections(args.dets, fmt=args.format)
    sizes = read_image_sizes(args.sizes)
    fmt = args.format
    if args.ellipse_regressor:
        if fmt != "rect":
            raise ValueError("--ellipse-regressor applies to rectangle detections (--format rect)")
        dets = {k: s3fd_rect_to_ellipse(v) for k, v in dets.items()}
        fmt = "ellipse"
    result = evaluate_fddb(dets, images, sizes, fmt=fmt, fp_limit=args.fp)
    _warn(result.warnings)
    if args.roc_prefix:
        result.roc.write(args.roc_prefix)
    if args.out:
        save_json(result.to_dict(), args.out)
    if args.plot:
        plot_fddb_roc(result, args.plot)
    summary = {"tpr_disc": result.tpr_disc_at, "tpr_cont": result.tpr_cont_at, "fp": args.fp,
               "num_images": result.num_images, "num_faces": result.roc.num_faces}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"FDDB ({result.num_images} images, {result.roc.num_faces} faces, {result.num_detections} detections)")
    print(f"discrete TPR @ {args.fp} FP:   {result.tpr_disc_at:.4f}")
    print(f"continuous TPR @ {args.fp} FP: {result.tpr_cont_at:.4f}")
    return 0
