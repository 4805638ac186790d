"""Overlay one WIDER setting's PR curves of several prediction folders (``facedet detect --wider-out``).

usage: python benchmarks/compare_pr.py LABEL=PRED_DIR [LABEL=PRED_DIR ...] --png OUT.png [--setting easy]
       [--gt ../shared/data/widerface/ground_truth] [--images ../shared/data/widerface/WIDER_val/images]
Prints each folder's precision at recall 0.5 ... 0.9 (the best precision at that recall or more) and its AP.
"""

from __future__ import annotations

import argparse

import numpy as np

from facedet.eval.plots import plot_wider_pr_compare
from facedet.eval.wider import evaluate_wider_dir

RECALLS = (0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("preds", nargs="+", metavar="LABEL=PRED_DIR")
    ap.add_argument("--png", required=True)
    ap.add_argument("--setting", default="easy")
    ap.add_argument("--gt", default="../shared/data/widerface/ground_truth")
    ap.add_argument("--images", default="../shared/data/widerface/WIDER_val/images")
    args = ap.parse_args()
    results = {}
    for item in args.preds:
        label, sep, folder = item.partition("=")
        if not sep:
            ap.error(f"{item!r}: expected LABEL=PRED_DIR")
        results[label], _ = evaluate_wider_dir(folder, args.gt, args.images, settings=(args.setting,))
    print(f"| {args.setting} | AP | " + " | ".join(f"P@R{r:g}" for r in RECALLS) + " |")
    print("|---" * (len(RECALLS) + 2) + "|")
    for label, r in results.items():
        s = r.settings[args.setting]
        rec, prec = np.nan_to_num(np.asarray(s.recall)), np.nan_to_num(np.asarray(s.precision))
        cells = [f"{prec[rec >= x].max():.3f}" if (rec >= x).any() else "-" for x in RECALLS]
        print(f"| {label} | {s.ap:.4f} | " + " | ".join(cells) + " |")
    print(f"wrote {plot_wider_pr_compare(results, args.setting, args.png)}")


if __name__ == "__main__":
    main()
