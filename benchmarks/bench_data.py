"""Data-reader speed: WIDER train bbx_gt.txt and .mat, the face-mask VOC set, synthetic generation.

    python benchmarks/bench_data.py ../shared/data
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import facedet.eval.wider_gt  # noqa: F401  (import cost not timed)
from facedet.data import load_voc, load_wider, parse_wider_txt
from facedet.data.errors import read_text
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider


def timed(fn: Callable[[], object], n: int = 5) -> tuple[float, float]:
    ts = []
    for _ in range(n):
        s = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - s)
    return statistics.median(ts), min(ts)


def main() -> None:
    logging.disable(logging.WARNING)
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
    wider = root / "widerface"
    txt = read_text(wider / "wider_face_split/wider_face_train_bbx_gt.txt")
    rows = [
        ("parse train bbx_gt.txt (12,880 images, text in memory)", timed(lambda: parse_wider_txt(txt, "x", "/r"))),
        ("load_wider(root, 'train') txt incl. read + exists checks", timed(lambda: load_wider(wider, "train"))),
        ("load_wider(root, 'train', source='mat')", timed(lambda: load_wider(wider, "train", source="mat"), 3)),
        ("load_voc(facemask) 853 xml", timed(lambda: load_voc(root / "facemask"), 3)),
    ]
    with tempfile.TemporaryDirectory() as d:
        cfg = SyntheticConfig(num_images=50)
        rows.append(("synthetic train, 50 images 320x320",
                     timed(lambda: write_synthetic_wider(Path(d) / "a", "train", cfg), 3)))
        rows.append(("synthetic val, 50 images + 4 .mat files",
                     timed(lambda: write_synthetic_wider(Path(d) / "b", "val", cfg), 3)))
    print(f"{'task':<60} {'median s':>9} {'min s':>7}")
    for name, (med, mn) in rows:
        print(f"{name:<60} {med:>9.3f} {mn:>7.3f}")


if __name__ == "__main__":
    main()
