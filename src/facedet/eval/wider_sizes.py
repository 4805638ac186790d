"""Where a detector loses WIDER faces: recall and scores per face-size bin.

AP says how much is lost, not where. This splits one setting's kept faces (e.g. Easy) by size and
reports, per bin: the faces, the share found by any detection (the recall ceiling), the share found
at ``score >= score_thr`` (raw detector scores, not the protocol's min-max normalised ones), the
median best score of the faces found, and the median best IoU of the faces found. A detector blind to a
size shows a low ceiling; one that finds a size but scores it low (under-confident) shows a high ceiling
and a low recall at the threshold. A low median IoU says the boxes are loose: a detector trained with
IoU-quality scores (GFL's QFL, as SCRFD is) then scores those faces low too.

Matching follows the protocol (``facedet.eval.wider``): a detection counts for its first-argmax gt face
when their IoU (+1-pixel convention) is at least ``iou_thresh``. A face is found by the best-scoring
detection so matched. Size is ``sqrt(w * h)`` of the gt box (a choice: WIDER boxes vary in aspect, and
the geometric-mean side ranks them as area does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facedet.checks import fraction
from facedet.eval.wider import ALL_SETTINGS, Key, match_detections, select_images
from facedet.eval.wider_gt import WiderGroundTruth

DEFAULT_EDGES: tuple[float, ...] = (0, 16, 32, 64, 128, 256, 512)


def _none_if_nan(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


@dataclass(frozen=True)
class SizeBin:
    """One face-size bin ``[low, high)`` of a setting."""

    low: float
    high: float  # inf for the last bin
    faces: int
    found: int  # matched by some detection at any score
    found_at_thr: int  # matched by a detection with score >= score_thr
    median_score: float  # best score of each face found, median (NaN when none has a score)
    median_iou: float = float("nan")  # best IoU of each face found, median (NaN when none is found)

    @property
    def ceiling(self) -> float:
        return self.found / self.faces if self.faces else float("nan")

    @property
    def recall(self) -> float:
        return self.found_at_thr / self.faces if self.faces else float("nan")

    def to_dict(self) -> dict:
        """JSON-ready: NaN as None, the open upper edge as None."""
        return {"low": self.low, "high": None if np.isinf(self.high) else self.high, "faces": self.faces,
                "found": self.found, "found_at_thr": self.found_at_thr, "ceiling": _none_if_nan(self.ceiling),
                "recall": _none_if_nan(self.recall),
                "median_score": _none_if_nan(self.median_score), "median_iou": _none_if_nan(self.median_iou)}


def recall_by_size(
    predictions: Mapping,
    gt: WiderGroundTruth | str | Path,
    setting: str = "easy",
    images_dir: str | Path | None = None,
    edges: Sequence[float] = DEFAULT_EDGES,
    score_thr: float = 0.5,
    iou_thresh: float = 0.5,
    subset: Iterable[Key] | None = None,
) -> list[SizeBin]:
    """Recall ceiling, recall at ``score_thr``, median score and median IoU per size bin of ``setting``'s faces.

    ``edges`` are the increasing, finite lower bounds of the bins; the last bin is open-ended and faces
    below the first edge are left out. ``setting`` is one of ``easy``, ``medium``, ``hard``, ``all``. Image
    selection (``images_dir``, ``subset``) and prediction keys work as in ``evaluate_wider``. A face
    matched only by NaN-score detections counts as found, with no score.
    """
    if setting not in ALL_SETTINGS:
        raise ValueError(f"setting must be one of {', '.join(ALL_SETTINGS)}, got {setting!r}")
    fraction("score_thr", score_thr)
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or not e.size or not np.isfinite(e).all() or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges must be a non-empty increasing sequence of finite sizes, got {list(edges)}")
    sel = select_images(predictions, gt, images_dir, subset)
    g = sel.gt
    m = match_detections(sel)
    wh = np.concatenate([im.boxes_xywh[:, 2:4] for im in g.images]) if g.images else np.zeros((0, 2))
    size = np.sqrt(np.clip(wh[:, 0], 0, None) * np.clip(wh[:, 1], 0, None))
    kept = g.flat_keep(setting) & np.repeat(sel.selected, sel.n_gt)
    hit = m.best >= iou_thresh
    matched = np.zeros(len(size), dtype=bool)
    matched[m.gidx[hit]] = True
    best_score = np.full(len(size), np.nan)
    np.fmax.at(best_score, m.gidx[hit], m.score[hit])  # fmax: a NaN score does not hide a real one
    best_iou = np.zeros(len(size))
    np.maximum.at(best_iou, m.gidx[hit], m.best[hit])
    which = np.searchsorted(e, size, side="right") - 1  # -1: below the first edge (left out)
    out = []
    for b, low in enumerate(e):
        in_bin = kept & (which == b)
        found = in_bin & matched
        s = best_score[found]
        scored = s[~np.isnan(s)]
        out.append(SizeBin(float(low), float(e[b + 1]) if b + 1 < len(e) else float("inf"), int(in_bin.sum()),
                           int(found.sum()), int((scored >= score_thr).sum()),
                           float(np.median(scored)) if scored.size else float("nan"),
                           float(np.median(best_iou[found])) if found.any() else float("nan")))
    return out


def format_size_table(bins: list[SizeBin], setting: str, score_thr: float) -> str:
    """A plain-text table of ``recall_by_size``'s bins."""
    lines = [f"{setting} faces by size sqrt(w*h): recall ceiling, recall at score >= {score_thr:g}, median score, "
             f"median IoU of the faces found",
             f"{'size px':<11} {'faces':>6} {'ceiling':>8} {'recall':>7} {'median':>7} {'IoU':>6}"]
    for b in bins:
        rng = f"{b.low:g}+" if np.isinf(b.high) else f"{b.low:g}-{b.high:g}"
        lines.append(f"{rng:<11} {b.faces:>6d} {b.ceiling:>8.3f} {b.recall:>7.3f} {b.median_score:>7.3f} "
                     f"{b.median_iou:>6.3f}")
    return "\n".join(lines)
