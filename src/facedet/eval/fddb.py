"""FDDB evaluation with the official tool's semantics (Jain & Learned-Miller 2010; spec ``eval_protocol.md`` §2).

Per image: annotated ellipses and detections are rasterised as filled regions clipped to the image
(ellipse: ``cv2.ellipse`` with rounded centre, truncated axes, ``angle = (pi - theta) * 180 / pi``;
rectangle: rounded inclusive corners); the pairwise score is the pixel IoU. For every unique detection
score ``st`` (ascending) the detections with score >= st are matched one-to-one by maximum total IoU
(``scipy.optimize.linear_sum_assignment``) after dropping all-zero rows and columns; TPDisc = #pairs with
IoU > 0.5, TPCont = sum of matched IoUs, FP = #valid - TPDisc. Images are merged like
``Results::merge``: at every threshold of the union each image contributes its result at its own smallest
threshold >= it, or (N, 0, 0). An image without detections has one result at DBL_MAX.

Masks are drawn in bounding-box-local canvases (integer translation of the full-image drawing, clipped to
the image), which gives the same pixel sets as the tool's image-sized masks.

Reported scalar (the tool defines none): ``tpr_disc_at`` = the largest discrete TPR among ROC points
with FP <= ``fp_limit`` (default 1000), and likewise ``tpr_cont_at``.
Known residual differences: ties in the assignment may be broken differently than libhungarian, and
OpenCV's ellipse polygonisation may differ between versions.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facedet.data.fddb import FddbImage
from facedet.optional import require

DBL_MAX = sys.float_info.max


def _round32(v: np.ndarray | float) -> np.ndarray:
    """``cvPointFrom32f(cvPoint2D32f(v))``: cast to float32, then round half to even (cvRound)."""
    return np.rint(np.asarray(v, dtype=np.float32)).astype(np.int64)


@dataclass
class _Mask:
    """A region's pixels: boolean ``mask`` whose top-left pixel is image pixel ``(x0, y0)``."""

    x0: int
    y0: int
    mask: np.ndarray

    @property
    def area(self) -> int:
        return int(self.mask.sum())

    @property
    def box(self) -> tuple[int, int, int, int]:
        h, w = self.mask.shape
        return self.x0, self.y0, self.x0 + w - 1, self.y0 + h - 1


def ellipse_mask(ellipse: np.ndarray, size: tuple[int, int]) -> _Mask:
    """Filled ellipse ``ra rb theta cx cy`` clipped to an image of ``size = (W, H)`` (negative axes -> 0)."""
    ra, rb, theta, cx, cy = (float(v) for v in ellipse[:5])
    w_img, h_img = size
    c = _round32(np.array([cx, cy]))
    axes = (max(int(ra), 0), max(int(rb), 0))
    angle = (np.pi - theta) * 180.0 / np.pi
    m = max(axes) + 2
    x0, y0 = max(int(c[0]) - m, 0), max(int(c[1]) - m, 0)
    x1, y1 = min(int(c[0]) + m, w_img - 1), min(int(c[1]) + m, h_img - 1)
    if x1 < x0 or y1 < y0:
        return _Mask(0, 0, np.zeros((0, 0), bool))
    canvas = np.zeros((y1 - y0 + 1, x1 - x0 + 1), np.uint8)
    cv2.ellipse(canvas, (int(c[0]) - x0, int(c[1]) - y0), axes, angle, 0, 360, 1, -1)
    return _Mask(x0, y0, canvas.astype(bool))


def rect_ranges(rects: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Inclusive clipped pixel ranges ``(n,4) x0 y0 x1 y1`` of filled rectangles ``x y w h``; empty if x1<x0."""
    r = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    p1 = _round32(r[:, :2])
    p2 = _round32(r[:, :2] + r[:, 2:4])
    lo, hi = np.minimum(p1, p2), np.maximum(p1, p2)
    w_img, h_img = size
    return np.stack([np.maximum(lo[:, 0], 0), np.maximum(lo[:, 1], 0),
                     np.minimum(hi[:, 0], w_img - 1), np.minimum(hi[:, 1], h_img - 1)], axis=1)


def _iou_ellipse_rects(a: _Mask, ranges: np.ndarray) -> np.ndarray:
    """IoU of one ellipse mask with many clipped rectangles, via the mask's integral image."""
    areas_r = np.maximum(ranges[:, 2] - ranges[:, 0] + 1, 0) * np.maximum(ranges[:, 3] - ranges[:, 1] + 1, 0)
    if a.mask.size == 0:
        inter = np.zeros(len(ranges), np.int64)
    else:
        h, w = a.mask.shape
        ii = cv2.integral(a.mask.view(np.uint8)).astype(np.int64)  # (h+1, w+1) prefix sums
        xa = np.minimum(np.maximum(ranges[:, 0] - a.x0, 0), w)
        xb = np.minimum(np.maximum(ranges[:, 2] - a.x0 + 1, 0), w)
        ya = np.minimum(np.maximum(ranges[:, 1] - a.y0, 0), h)
        yb = np.minimum(np.maximum(ranges[:, 3] - a.y0 + 1, 0), h)
        xb, yb = np.maximum(xb, xa), np.maximum(yb, ya)
        inter = ii[yb, xb] - ii[ya, xb] - ii[yb, xa] + ii[ya, xa]
    union = a.area + areas_r - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1), 0.0)


def _iou_masks(a: _Mask, d: _Mask) -> float:
    ax0, ay0, ax1, ay1 = a.box
    dx0, dy0, dx1, dy1 = d.box
    x0, y0, x1, y1 = max(ax0, dx0), max(ay0, dy0), min(ax1, dx1), min(ay1, dy1)
    inter = 0
    if x1 >= x0 and y1 >= y0 and a.mask.size and d.mask.size:
        sa = a.mask[y0 - a.y0 : y1 - a.y0 + 1, x0 - a.x0 : x1 - a.x0 + 1]
        sd = d.mask[y0 - d.y0 : y1 - d.y0 + 1, x0 - d.x0 : x1 - d.x0 + 1]
        inter = int(np.count_nonzero(sa & sd))
    union = a.area + d.area - inter
    return inter / union if union > 0 else 0.0


def pairwise_iou(ellipses: np.ndarray, dets: np.ndarray, size: tuple[int, int], fmt: str = "rect") -> np.ndarray:
    """Pixel IoU ``(n_annot, n_det)``; ``dets`` rows ``x y w h ...`` (rect) or ``ra rb theta cx cy ...`` (ellipse)."""
    masks = [ellipse_mask(e, size) for e in ellipses]
    out = np.zeros((len(masks), len(dets)), dtype=np.float64)
    if not len(dets) or not masks:
        return out
    if fmt == "rect":
        ranges = rect_ranges(dets[:, :4], size)
        for i, a in enumerate(masks):
            out[i] = _iou_ellipse_rects(a, ranges)
    elif fmt == "ellipse":
        dmasks = [ellipse_mask(d, size) for d in dets]
        for i, a in enumerate(masks):
            for j, d in enumerate(dmasks):
                out[i, j] = _iou_masks(a, d)
    else:
        raise ValueError(f"fmt must be 'rect' or 'ellipse', got {fmt!r}")
    return out


def _match(iou: np.ndarray) -> tuple[int, float]:
    """``runHungarian``: drop all-zero rows/cols, max-total-IoU assignment; (#pairs IoU>0.5, sum IoU)."""
    rows = iou.sum(1) != 0
    cols = iou.sum(0) != 0
    sub = iou[rows][:, cols]
    if sub.size == 0:
        return 0, 0.0
    opt = require("scipy.optimize", "eval", "FDDB matching")
    r, c = opt.linear_sum_assignment(sub, maximize=True)
    v = sub[r, c]
    v = v[v > 0]
    return int((v > 0.5).sum()), float(v.sum())


def image_results(ellipses: np.ndarray, dets: np.ndarray, size: tuple[int, int],
                  fmt: str = "rect") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One image's (thresholds ascending, TPDisc, TPCont, FP) at each unique detection score."""
    dets = np.asarray(dets, dtype=np.float64)
    if len(dets) == 0:
        return np.array([DBL_MAX]), np.zeros(1), np.zeros(1), np.zeros(1)
    scores = dets[:, 5 if fmt == "ellipse" else 4]
    iou = pairwise_iou(ellipses, dets, size, fmt)
    uniq = np.unique(scores)
    nonzero = iou.sum(0) != 0
    n_valid = len(scores) - np.searchsorted(np.sort(scores), uniq, side="left")
    nz_sorted = np.sort(scores[nonzero])
    n_valid_nz = len(nz_sorted) - np.searchsorted(nz_sorted, uniq, side="left")
    tpd, tpc = np.zeros(len(uniq)), np.zeros(len(uniq))
    # valid sets are nested, so the number of valid non-zero detections identifies the matrix to match
    for key in np.unique(n_valid_nz):
        st = uniq[n_valid_nz == key]
        d, c = _match(iou[:, nonzero & (scores >= st.min())])
        tpd[n_valid_nz == key], tpc[n_valid_nz == key] = d, c
    fp = n_valid - tpd
    return uniq, tpd, tpc, fp


@dataclass
class FddbRoc:
    """Merged ROC, ascending thresholds: TP counts (discrete, continuous), FP, total faces N."""

    thresholds: np.ndarray
    tp_disc: np.ndarray
    tp_cont: np.ndarray
    fp: np.ndarray
    num_faces: int

    @property
    def tpr_disc(self) -> np.ndarray:
        return self.tp_disc / self.num_faces if self.num_faces else np.zeros_like(self.tp_disc)

    @property
    def tpr_cont(self) -> np.ndarray:
        return self.tp_cont / self.num_faces if self.num_faces else np.zeros_like(self.tp_cont)

    def tpr_at(self, fp_limit: float, kind: str = "disc") -> float:
        """Largest TPR among points with FP <= ``fp_limit`` (0 if none)."""
        tpr = self.tpr_disc if kind == "disc" else self.tpr_cont
        ok = self.fp <= fp_limit
        return float(tpr[ok].max()) if ok.any() else 0.0

    def disc_lines(self) -> list[str]:
        """``DiscROC.txt`` lines ``TPDisc/N FP threshold`` (C++ default stream formatting)."""
        if not self.num_faces:
            return [f"0 0 {t:g}" for t in self.thresholds]
        return [f"{a:g} {b:g} {t:g}" for a, b, t in zip(self.tpr_disc, self.fp, self.thresholds, strict=True)]

    def cont_lines(self) -> list[str]:
        """``ContROC.txt`` lines ``TPCont/N FP``."""
        if not self.num_faces:
            return ["0 0"] * len(self.thresholds)
        return [f"{a:g} {b:g}" for a, b in zip(self.tpr_cont, self.fp, strict=True)]

    def write(self, prefix: str | Path) -> tuple[Path, Path]:
        """Write ``<prefix>DiscROC.txt`` and ``<prefix>ContROC.txt`` like ``Results::saveROC``."""
        disc, cont = Path(f"{prefix}DiscROC.txt"), Path(f"{prefix}ContROC.txt")
        disc.parent.mkdir(parents=True, exist_ok=True)
        disc.write_text("".join(f"{ln}\n" for ln in self.disc_lines()))
        cont.write_text("".join(f"{ln}\n" for ln in self.cont_lines()))
        return disc, cont


def merge_results(per_image: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                  n_faces: list[int]) -> FddbRoc:
    """``Results::merge`` over all images, vectorised with difference arrays over the union of thresholds."""
    if not per_image:
        return FddbRoc(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), 0)
    u = np.unique(np.concatenate([p[0] for p in per_image]))
    diff = np.zeros((3, len(u) + 1))
    for th, tpd, tpc, fp in per_image:
        prev = np.concatenate([[-np.inf], th[:-1]])
        lo = np.searchsorted(u, prev, side="right")
        hi = np.searchsorted(u, th, side="right")
        for row, vals in enumerate((tpd, tpc, fp)):
            np.add.at(diff[row], lo, vals)
            np.add.at(diff[row], hi, -vals)
    acc = np.cumsum(diff, axis=1)[:, :-1]
    return FddbRoc(u, acc[0], acc[1], acc[2], int(sum(n_faces)))


@dataclass
class FddbResult:
    roc: FddbRoc
    num_images: int
    num_detections: int
    fp_limit: float
    tpr_disc_at: float
    tpr_cont_at: float
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "fp_limit": self.fp_limit, "tpr_disc": self.tpr_disc_at, "tpr_cont": self.tpr_cont_at,
            "num_images": self.num_images, "num_faces": self.roc.num_faces,
            "num_detections": self.num_detections,
            "roc": {"thresholds": self.roc.thresholds.tolist(), "tpr_disc": self.roc.tpr_disc.tolist(),
                    "tpr_cont": self.roc.tpr_cont.tolist(), "fp": self.roc.fp.tolist()},
            "warnings": self.warnings,
        }


def evaluate_fddb(detections: Mapping[str, np.ndarray], annotations: list[FddbImage],
                  sizes: Mapping[str, tuple[int, int]], fmt: str = "rect", fp_limit: float = 1000) -> FddbResult:
    """ROC over ``annotations`` (fold order); images without an entry in ``detections`` have none.

    ``sizes`` maps image name to ``(W, H)``; a missing size is an error (regions are clipped to the image).
    """
    missing = [im.name for im in annotations if im.name not in sizes]
    if missing:
        raise ValueError(f"no image size for {len(missing)} of {len(annotations)} images, e.g. {missing[0]}")
    names = {im.name for im in annotations}
    warnings = []
    extra = [k for k in detections if k not in names]
    if extra:
        warnings.append(f"{len(extra)} detection entries are not annotated images (ignored), e.g. {extra[0]}")
    suspect = [k for k, d in detections.items() if len(d) and (not np.isfinite(np.asarray(d, np.float64)).all()
                                                             or (fmt == "rect" and (np.asarray(d)[:, 2:4] < 0).any()))]
    if suspect:
        warnings.append(f"{len(suspect)} images have detections with non-finite values or negative sizes "
                        f"(kept, as the official tool reads them), e.g. {suspect[0]}")
    absent = [im.name for im in annotations if im.name not in detections]
    if absent:
        warnings.append(f"{len(absent)} annotated images have no detection entry (no detections), e.g. {absent[0]}")
    per_image, n_faces, n_det = [], [], 0
    for im in annotations:
        d = np.asarray(detections.get(im.name, np.zeros((0, 6))), dtype=np.float64)
        w, h = sizes[im.name]
        check_size_fits(im, (int(w), int(h)))
        per_image.append(image_results(im.ellipses, d, (int(w), int(h)), fmt))
        n_faces.append(len(im.ellipses))
        n_det += len(d)
    roc = merge_results(per_image, n_faces)
    return FddbResult(roc, len(annotations), n_det, fp_limit, roc.tpr_at(fp_limit, "disc"),
                      roc.tpr_at(fp_limit, "cont"), warnings)


# S3FD's rectangle -> ellipse linear regressor (sfzhang15/SFD fitting.m / Fit.mat; spec §2.6). Fitted on FDDB
# itself: report its numbers separately from plain rectangles.
_S3FD_MEAN_X = np.array([156.139471, 78.397758, 84.930771, 116.112851])
_S3FD_STD_X = np.array([100.313377, 59.309591, 44.335308, 62.019658])
_S3FD_MEAN_Y = np.array([70.911826, 46.730524, -0.015394, 198.482352, 127.663388])
_S3FD_STD_Y = np.array([37.423205, 24.516962, 0.136494, 95.606088, 61.831869])
_S3FD_W = np.array([
    [-0.003862, 0.001685, 0.007722, 1.051547, 0.002546],
    [0.012729, 0.007768, 0.018259, 0.000302, 0.954322],
    [0.429527, 0.720431, -0.315138, 0.238219, -0.181040],
    [0.565779, 0.274531, 0.296163, -0.006104, 0.611675],
])


def s3fd_rect_to_ellipse(rows: np.ndarray) -> np.ndarray:
    """Rectangle rows ``x y w h score`` -> ellipse rows ``ra rb theta cx cy score`` (S3FD regressor)."""
    rows = np.asarray(rows, dtype=np.float64)
    rows = rows[None] if rows.ndim == 1 else rows
    e = ((rows[:, :4] - _S3FD_MEAN_X) / _S3FD_STD_X) @ _S3FD_W * _S3FD_STD_Y + _S3FD_MEAN_Y
    e[:, 2] = np.where(e[:, 2] >= 0, e[:, 2] - np.pi / 2, e[:, 2] + np.pi / 2)
    return np.concatenate([e, rows[:, 4:5]], axis=1)


def read_fddb_detections(path: str | Path, fmt: str = "rect") -> dict[str, np.ndarray]:
    """Detection file: per image its name, the count, then rows (5 values rect, 6 ellipse; extra ignored).

    The count is read like ``stringstream >> int`` (``750.0`` -> 750). A trailing ``.jpg`` on names is
    dropped. ``ValueError`` names the file and line for malformed input or a repeated image.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FDDB detection file not found: {path}")
    need = 6 if fmt == "ellipse" else 5
    lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM must not become part of the first name
    out: dict[str, np.ndarray] = {}
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        name = lines[i].strip()
        name = name[:-4] if name.endswith(".jpg") else name
        if name in out:
            raise ValueError(f"{path}:{i + 1}: image '{name}' appears twice")
        head = lines[i + 1].strip() if i + 1 < len(lines) else ""
        num = head.split(".")[0].split()[0] if head.split() else ""
        if not num.lstrip("-").isdigit():
            raise ValueError(f"{path}:{i + 2}: expected the detection count after '{name}', got {head!r}")
        k = int(num)
        if k < 0:
            raise ValueError(f"{path}:{i + 2}: negative detection count {k}")
        rows = np.zeros((k, need))
        for j in range(k):
            ln = i + 2 + j
            if ln >= len(lines):
                raise ValueError(f"{path}:{ln + 1}: '{name}' says {k} detections but the file ends")
            try:
                vals = [float(p) for p in lines[ln].split()]
            except ValueError:
                raise ValueError(f"{path}:{ln + 1}: unparsable detection row {lines[ln]!r}") from None
            if len(vals) < need:
                raise ValueError(f"{path}:{ln + 1}: expected {need} values per {fmt} row, got {len(vals)}")
            rows[j] = vals[:need]
        out[name] = rows
        i += 2 + k
    return out


def check_size_fits(image: FddbImage, size: tuple[int, int]) -> None:
    """``ValueError`` when ``size = (W, H)`` contradicts the image's annotations: a size under 1, or an
    ellipse centre outside the image (ellipses may cross the border; their centres never do in FDDB).
    The tool clips regions to the image, so a wrong size would silently change every IoU."""
    w, h = size
    if w < 1 or h < 1:
        raise ValueError(f"FDDB image {image.name}: size {w}x{h} is not an image size")
    if len(image.ellipses):
        cx, cy = image.ellipses[:, 3], image.ellipses[:, 4]
        out = np.flatnonzero((cx < -1) | (cy < -1) | (cx > w + 1) | (cy > h + 1))
        if len(out):
            k = int(out[0])
            raise ValueError(f"FDDB image {image.name}: size {w}x{h} contradicts its annotation (ellipse {k + 1} "
                             f"is centred at ({cx[k]:.1f}, {cy[k]:.1f}), outside the image); check the --sizes file")


def read_image_sizes(path: str | Path) -> dict[str, tuple[int, int]]:
    """Image sizes: JSON ``{name: [W, H]}`` or text lines ``name W H``; ValueError with file:line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image size file not found: {path}")
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        out_json: dict[str, tuple[int, int]] = {}
        for k, v in data.items():
            if not (isinstance(v, list) and len(v) == 2 and
                    all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v)):
                raise ValueError(f"{path}: size of {k!r} must be [W, H] (positive integers), got {v!r}")
            out_json[str(k).removesuffix(".jpg")] = (v[0], v[1])
        return out_json
    out: dict[str, tuple[int, int]] = {}
    for n, ln in enumerate(text.splitlines(), 1):
        parts = ln.split()
        if not parts:
            continue
        if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()) or min(int(parts[1]), int(parts[2])) < 1:
            raise ValueError(f"{path}:{n}: expected '<image name> <width> <height>', got {ln.strip()!r}")
        name, size = parts[0].removesuffix(".jpg"), (int(parts[1]), int(parts[2]))
        if name in out and out[name] != size:
            raise ValueError(f"{path}:{n}: {name} is listed again with another size ({size[0]}x{size[1]}, "
                             f"earlier {out[name][0]}x{out[name][1]})")
        out[name] = size
    return out
