"""Pseudo-labels: a teacher detector's output on unlabelled images, as faces and ignore regions.

A detection scored at least ``face_thr`` becomes a face; one scored in ``[ignore_thr, face_thr)`` becomes
an ignore region, so that the student is taught neither face nor background where the teacher is unsure
(the usual two-threshold rule of self-training detectors, e.g. "Unbiased Teacher", Liu et al. 2021, whose
single threshold we split in two). Boxes thinner than ``min_side`` pixels are dropped: at that size the
teacher's box is noise, not a face to learn.

Choices (ours): ``face_thr`` 0.5 (SCRFD's own demo threshold), ``ignore_thr`` 0.2, ``min_side`` 4.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facedet.ops.boxes import box_iou_np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """The image files under ``folder`` (recursive, by suffix, sorted); a clear error when there are none."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder of images")
    found = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise FileNotFoundError(f"{root}: no image files ({', '.join(IMAGE_SUFFIXES)}) in it or below it")
    return found


def split_by_score(boxes: np.ndarray, scores: np.ndarray, face_thr: float = 0.5, ignore_thr: float = 0.2,
                   min_side: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """``(faces, ignore)`` as float32 ``(N, 4)`` xyxy arrays from one image's detections (see module doc)."""
    if not 0.0 <= ignore_thr <= face_thr <= 1.0:
        raise ValueError(f"need 0 <= ignore_thr <= face_thr <= 1, got {ignore_thr} and {face_thr}")
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    if len(boxes) != len(scores):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    big = ((boxes[:, 2:] - boxes[:, :2]) >= min_side).all(1)
    face = big & (scores >= face_thr)
    unsure = big & (scores >= ignore_thr) & ~face
    return boxes[face], boxes[unsure]


def snap_boxes(labels: np.ndarray, detections: np.ndarray, iou_thr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """``(boxes, snapped)``: each label replaced by the detection it matches, where the two are each other's
    best match (highest IoU both ways) at ``iou_thr`` or more; other labels are kept as they are.

    Why: data sets draw face boxes in their own style. The Kaggle face-mask labels, against SCRFD-2.5GF's
    WIDER-style boxes, are about 10% shorter and sit 13% of their height lower (benchmarks/box_style.py),
    and a student trained on both styles learns the spread. Snapping to a WIDER-trained teacher's box moves
    the labels the teacher agrees with into WIDER's style while the teacher's misses keep the human box.
    """
    labels = np.asarray(labels, dtype=np.float32).reshape(-1, 4)
    detections = np.asarray(detections, dtype=np.float32).reshape(-1, 4)
    snapped = np.zeros(len(labels), dtype=bool)
    if not len(labels) or not len(detections):
        return labels.copy(), snapped
    iou = box_iou_np(labels, detections)
    best = iou.argmax(1)
    mutual = iou.argmax(0)[best] == np.arange(len(labels))
    snapped = mutual & (iou[np.arange(len(labels)), best] >= iou_thr)
    out = labels.copy()
    out[snapped] = detections[best[snapped]]
    return out, snapped


@dataclass(frozen=True)
class BoxOffsets:
    """How each label's best-IoU detection differs from it: ``(N,)`` arrays, one entry per label."""

    iou: np.ndarray  # IoU with that detection
    w_ratio: np.ndarray  # detection width / label width
    h_ratio: np.ndarray  # detection height / label height
    dx: np.ndarray  # centre offset, detection minus label, over the label's width (positive: right)
    dy: np.ndarray  # the same over the label's height (positive: below)


def box_offsets(labels: np.ndarray, detections: np.ndarray) -> BoxOffsets:
    """Compare each label (xyxy) with the detection of highest IoU; the box-style measure of
    ``benchmarks/box_style.py`` and ``benchmarks/check_webfaces.py``. ``detections`` must not be empty."""
    g = np.asarray(labels, dtype=np.float32).reshape(-1, 4)
    d = np.asarray(detections, dtype=np.float32).reshape(-1, 4)
    if not len(d):
        raise ValueError("no detections to compare the labels with")
    iou = box_iou_np(g, d)
    p = d[iou.argmax(1)]
    gw, gh = g[:, 2] - g[:, 0], g[:, 3] - g[:, 1]
    return BoxOffsets(iou.max(1), (p[:, 2] - p[:, 0]) / gw, (p[:, 3] - p[:, 1]) / gh,
                      ((p[:, 0] + p[:, 2]) - (g[:, 0] + g[:, 2])) / 2 / gw,
                      ((p[:, 1] + p[:, 3]) - (g[:, 1] + g[:, 3])) / 2 / gh)
