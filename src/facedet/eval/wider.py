"""WIDER FACE val evaluation (Easy / Medium / Hard AP) with the official MATLAB semantics.

Follows ``eval_tools`` (``read_pred.m``, ``norm_score.m``, ``evaluation.m``, ``VOCap.m``) as described
in spec ``eval_protocol.md`` §1.4: per-image stable descending sort, one global min-max score
normalisation over the detections of the evaluated gt images (start values realmin/realmax('single')),
+1-pixel IoU >= 0.5 against the first-argmax gt, a detection whose best gt is not kept is neither TP
nor FP, no fall-back match, 1000 thresholds ``t = 1 - k/1000`` with "last index whose score >= t",
(proposals, TP) summed over images and VOC all-point AP with sentinels.

Vectorisation: with a fixed argmax and no fall-back, the greedy match reduces to "a detection is a TP
iff it is the first one (in sorted order) whose best gt is that kept face". Per-image sorted prefixes
then become global counts of detections with score >= t, done with one sort and ``searchsorted``.

Settings: ``easy``/``medium``/``hard`` use the official keep lists; ``all`` keeps every face with
``invalid == 0``. Subset mode (``images_dir``, e.g. the 144 images of dev-val-144) evaluates only the
gt images present as ``<images_dir>/<event>/<name>.jpg``: faces are counted and scores normalised over
those images only.

Score arithmetic (a setting): ``score_precision="double"`` (default) normalises in float64, as the spec
and the Python ports do. Under MATLAB's mixed-class rules the single-precision start values make
``norm_score.m`` compute in single precision; ``"single"`` emulates that (read, not run in MATLAB). The
two differ only for scores that fall on a threshold's bin edge.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facedet.eval.predictions import ReadReport, read_predictions, sort_rows
from facedet.eval.wider_gt import WiderGroundTruth, load_ground_truth
from facedet.ops.boxes import box_iou_np

ALL_SETTINGS: tuple[str, ...] = ("easy", "medium", "hard", "all")
REALMIN_SINGLE = float(np.finfo(np.float32).tiny)
REALMAX_SINGLE = float(np.finfo(np.float32).max)
Key = tuple[str, str]


@dataclass
class SettingResult:
    """PR curve of one setting over the 1000 thresholds (threshold order: 0.999 down to 0.0).

    ``precision`` is NaN where nothing passes a threshold; with no face in the setting ``ap`` is NaN.
    """

    setting: str
    ap: float
    num_faces: int
    thresholds: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    proposals: np.ndarray
    true_positives: np.ndarray

    def to_dict(self) -> dict:
        nan_to_none = [None if np.isnan(v) else float(v) for v in self.precision]
        return {
            "ap": self.ap,
            "num_faces": self.num_faces,
            "thresholds": self.thresholds.tolist(),
            "precision": nan_to_none,
            "recall": self.recall.tolist(),
            "proposals": self.proposals.tolist(),
            "true_positives": self.true_positives.tolist(),
        }


@dataclass
class WiderResult:
    """AP per setting plus the bookkeeping needed to interpret it."""

    settings: dict[str, SettingResult]
    num_images: int
    num_detections: int
    score_min: float
    score_max: float
    subset: bool = False
    unmatched_keys: list = field(default_factory=list)

    @property
    def aps(self) -> dict[str, float]:
        return {k: v.ap for k, v in self.settings.items()}

    def to_dict(self, curves: bool = True) -> dict:
        d: dict = {
            "ap": self.aps,
            "num_images": self.num_images,
            "num_detections": self.num_detections,
            "score_min": self.score_min,
            "score_max": self.score_max,
            "subset": self.subset,
            "num_faces": {k: v.num_faces for k, v in self.settings.items()},
        }
        if curves:
            d["curves"] = {k: v.to_dict() for k, v in self.settings.items()}
        return d


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """``VOCap.m``: sentinels (0,0) and (1,0), right-to-left precision envelope (NaN-ignoring max)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.fmax.accumulate(mpre[::-1])[::-1]
    i = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    terms = (mrec[i] - mrec[i - 1]) * mpre[i]
    return float(np.cumsum(terms)[-1]) if terms.size else 0.0


def thresholds(thresh_num: int = 1000) -> np.ndarray:
    """``1 - t/thresh_num`` for ``t = 1..thresh_num`` in double, as ``image_pr_info`` computes them."""
    return 1.0 - np.arange(1, thresh_num + 1, dtype=np.float64) / thresh_num


def score_range(scores: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` as ``norm_score.m`` finds them: max starts at realmin, min at realmax ('single')."""
    finite = scores[~np.isnan(scores)]
    mx = max(REALMIN_SINGLE, float(finite.max())) if finite.size else REALMIN_SINGLE
    mn = min(REALMAX_SINGLE, float(finite.min())) if finite.size else REALMAX_SINGLE
    return mn, mx


def normalise_scores(scores: np.ndarray, mn: float, mx: float, precision: str = "double") -> np.ndarray:
    """``(s - min)/(max - min)``; all-equal scores give NaN (0/0), which no threshold passes."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if precision == "double":
            out = (scores - mn) / (mx - mn)
        elif precision == "single":
            mx32, mn32 = np.float32(mx), np.float32(mn)
            out = ((scores.astype(np.float32) - mn32) / (mx32 - mn32)).astype(np.float64)
        else:
            raise ValueError(f"score_precision must be 'double' or 'single', got {precision!r}")
    return out


def _effective_scores(norm: np.ndarray, img_of: np.ndarray) -> np.ndarray:
    """Score at which each detection enters its image's sorted prefix.

    Sorted descending, a NaN score comes first (MATLAB ``sort``), so it is inside the prefix
    "up to the last index with score >= t" exactly when some finite score of its image is >= t:
    it gets its image's largest finite score (NaN, i.e. never, when the image has none).
    """
    nan = np.isnan(norm)
    if not nan.any():
        return norm
    n_img = int(img_of.max()) + 1 if img_of.size else 0
    top = np.full(n_img, -np.inf)
    np.maximum.at(top, img_of[~nan], norm[~nan])
    top[np.isinf(top) & (top < 0)] = np.nan
    out = norm.copy()
    out[nan] = top[img_of[nan]]
    return out


def _accumulate(eff: np.ndarray, prop: np.ndarray, tp: np.ndarray, t: np.ndarray):
    """Sum over all detections with ``eff >= t`` of (is proposal, is TP), for every threshold."""
    ok = ~np.isnan(eff)
    order = np.argsort(eff[ok], kind="stable")
    se = eff[ok][order]
    idx = np.searchsorted(se, t, side="left")
    sums = []
    for w in (prop, tp):
        w = w[ok][order].astype(np.int64)
        suffix = np.concatenate([np.cumsum(w[::-1])[::-1], [0]])
        sums.append(suffix[idx].astype(np.float64))
    return sums[0], sums[1]


def images_present(images_dir: str | Path, keys: Iterable[Key]) -> np.ndarray:
    """Mask of ``(event, name)`` whose ``<images_dir>/<event>/<name>.jpg`` exists (one listdir per event)."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise FileNotFoundError(f"images folder not found: {images_dir}")
    listing: dict[str, set[str]] = {}
    out = []
    for event, name in keys:
        if event not in listing:
            d = images_dir / event
            listing[event] = set(os.listdir(d)) if d.is_dir() else set()
        out.append(f"{name}.jpg" in listing[event])
    return np.asarray(out, dtype=bool)


def _lookup(predictions: Mapping, keys: list[Key], selected: np.ndarray) -> tuple[list, list]:
    """Per gt image its rows (or None); keys may be ``(event, name)``, ``name`` or ``"event/name"``."""
    rows: list = [None] * len(keys)
    used: set = set()
    for i, (event, name) in enumerate(keys):
        for k in ((event, name), name, f"{event}/{name}"):
            if k in predictions:
                used.add(k)
                if selected[i]:
                    rows[i] = predictions[k]
                break
    unmatched = [k for k in predictions if k not in used]
    return rows, unmatched


def _as_rows(value: object) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.size == 0:
        return np.zeros((0, 5))
    if a.ndim != 2 or a.shape[1] < 5:
        raise ValueError(f"prediction rows must be (N, >=5) 'x y w h score', got shape {a.shape}")
    return sort_rows(a[:, :5])


@dataclass
class Selection:
    """The gt images an evaluation keeps and each one's sorted prediction rows (None: no entry)."""

    gt: WiderGroundTruth
    selected: np.ndarray  # (n_images,) bool
    per_img: list  # rows (N, 5) ``x y w h score`` per gt image; None: not selected, or no entry
    unmatched: list  # prediction keys that name no gt image
    n_gt: np.ndarray  # (n_images,) faces per gt image


def select_images(predictions: Mapping, gt: WiderGroundTruth | str | Path, images_dir: str | Path | None = None,
                  subset: Iterable[Key] | None = None) -> Selection:
    """Load ``gt`` if given as a folder, select images (``images_dir`` / ``subset``) and look up their rows."""
    if not isinstance(gt, WiderGroundTruth):
        gt = load_ground_truth(gt)
    keys = gt.keys
    selected = np.ones(len(keys), dtype=bool) if images_dir is None else images_present(images_dir, keys)
    if subset is not None:
        wanted = set(subset)
        selected &= np.array([k in wanted for k in keys], dtype=bool)
    if not selected.any():
        raise ValueError(f"no ground-truth image selected (images_dir={images_dir}, subset={subset is not None})")
    raw, unmatched = _lookup(predictions, keys, selected)
    per_img = [_as_rows(r) if r is not None else None for r in raw]
    n_gt = np.array([len(im.boxes_xywh) for im in gt.images], dtype=np.int64)
    return Selection(gt, selected, per_img, unmatched, n_gt)


@dataclass
class Matches:
    """The detections of the selected images that have gt faces, flat: best IoU (+1-pixel convention),
    flat index of the first-argmax gt face, raw score, and the index of the detection's image among the
    images with both detections and gt faces (detections on faceless images match nothing: left out)."""

    best: np.ndarray
    gidx: np.ndarray
    score: np.ndarray
    img_of: np.ndarray


def match_detections(sel: Selection) -> Matches:
    """Match each detection to its first-argmax gt face, as ``evaluation.m`` does (one IoU matrix per image)."""
    gt, per_img, n_gt = sel.gt, sel.per_img, sel.n_gt
    gt_start = np.concatenate([[0], np.cumsum(n_gt)])
    best_l, gidx_l, eff_l = [], [], []
    for i, rows in enumerate(per_img):
        if rows is None or not len(rows) or n_gt[i] == 0:
            continue
        g = gt.images[i].boxes_xywh
        gxy = np.concatenate([g[:, :2], g[:, :2] + g[:, 2:4]], axis=1)
        dxy = np.concatenate([rows[:, :2], rows[:, :2] + rows[:, 2:4]], axis=1)
        iou = box_iou_np(dxy, gxy, offset=1.0)
        arg = iou.argmax(axis=1)
        best_l.append(iou[np.arange(len(arg)), arg])
        gidx_l.append(arg + gt_start[i])
        eff_l.append(rows[:, 4])
    if not best_l:
        return Matches(np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64))
    return Matches(np.concatenate(best_l), np.concatenate(gidx_l), np.concatenate(eff_l),
                   np.repeat(np.arange(len(eff_l)), [len(e) for e in eff_l]))


def evaluate_wider(
    predictions: Mapping,
    gt: WiderGroundTruth | str | Path,
    images_dir: str | Path | None = None,
    settings: Iterable[str] = ALL_SETTINGS,
    iou_thresh: float = 0.5,
    thresh_num: int = 1000,
    score_precision: str = "double",
    subset: Iterable[Key] | None = None,
) -> WiderResult:
    """WIDER AP per setting for in-memory ``predictions`` (key -> rows ``x y w h score``).

    ``gt`` is a loaded ``WiderGroundTruth`` or the folder of the four ``.mat`` files. Keys not in the
    gt are ignored (listed in ``result.unmatched_keys``); images without an entry have no detections.
    ``subset`` (``(event, name)`` keys) restricts the evaluation like ``images_dir`` does; given both,
    an image must satisfy both.
    """
    settings = tuple(settings)
    sel = select_images(predictions, gt, images_dir, subset)
    gt, selected, per_img = sel.gt, sel.selected, sel.per_img
    n_gt = sel.n_gt
    all_scores = [r[:, 4] for r in per_img if r is not None and len(r)]
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    mn, mx = score_range(scores)
    m = match_detections(sel)
    best, gidx, raw_eff, img_of = m.best, m.gidx, m.score, m.img_of
    eff = _effective_scores(normalise_scores(raw_eff, mn, mx, score_precision), img_of)

    t = thresholds(thresh_num)
    results: dict[str, SettingResult] = {}
    face_selected = np.repeat(selected, n_gt)
    for name in settings:
        kept = gt.flat_keep(name)
        num_faces = int((kept & face_selected).sum())
        hit = best >= iou_thresh
        kg = kept[gidx] if gidx.size else np.zeros(0, dtype=bool)
        cand = np.flatnonzero(hit & kg)
        tp = np.zeros(len(best), dtype=bool)
        _, first = np.unique(gidx[cand], return_index=True)
        tp[cand[first]] = True
        prop = ~(hit & ~kg)
        proposals, tps = _accumulate(eff, prop, tp, t)
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = tps / proposals
            recall = tps / num_faces if num_faces else np.full(len(t), np.nan)
        results[name] = SettingResult(name, voc_ap(recall, precision), num_faces, t, precision, recall,
                                   proposals, tps)
    return WiderResult(results, int(selected.sum()), int(len(scores)), mn, mx,
                       subset=bool(images_dir is not None or subset is not None), unmatched_keys=sel.unmatched)


def read_wider_dir(pred_dir: str | Path, gt_dir: str | Path | WiderGroundTruth, images_dir: str | Path | None = None,
                   strict: bool = False) -> tuple[dict, WiderGroundTruth, ReadReport]:
    """Read ``pred_dir`` the MATLAB way (files located from the gt lists): predictions, gt and the report.

    In subset mode only the selected images' files are read.
    """
    gt = gt_dir if isinstance(gt_dir, WiderGroundTruth) else load_ground_truth(gt_dir)
    keys = gt.keys
    if images_dir is not None:
        mask = images_present(images_dir, keys)
        keys = [k for k, m in zip(keys, mask, strict=True) if m]
    preds, report = read_predictions(pred_dir, keys, strict=strict)
    return preds, gt, report


def evaluate_wider_dir(
    pred_dir: str | Path,
    gt_dir: str | Path | WiderGroundTruth,
    images_dir: str | Path | None = None,
    strict: bool = False,
    **kwargs,
) -> tuple[WiderResult, ReadReport]:
    """Read ``pred_dir`` (``read_wider_dir``) and evaluate it.

    Returns the result and the reader's report (missing / invalid files, which count as no detections).
    """
    preds, gt, report = read_wider_dir(pred_dir, gt_dir, images_dir, strict)
    return evaluate_wider(preds, gt, images_dir=images_dir, **kwargs), report
