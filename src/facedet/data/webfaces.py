"""Caltech 10k WebFaces: four facial points per face, turned into face boxes.

The ground truth (``WebFaces_GroundThruth.txt``) has one line per face:
``name lEx lEy rEx rEy noseX noseY mouthX mouthY`` (pixels). It holds no boxes, so
:func:`points_to_boxes` derives a square from the points with one rule that sits well on frontal
faces (``shared/data/README.md``; checked by eye and against a detector in
``benchmarks/check_webfaces.py``): centre x = the eyes' midpoint, centre y = the mean of the two
eye y's and the mouth y, side = max(2.2 x inter-ocular distance, 2.6 x eye-to-mouth distance).
That square is then shaped to WIDER FACE's box convention (faces there are boxed narrower than tall,
from brow to chin): width 0.78 and height 1.03 of the side, centre 0.03 side higher. Those three
numbers are the medians of the official SCRFD-0.5GF's boxes (trained on WIDER) against the squares
on 300 sampled images (``benchmarks/check_webfaces.py --square``); all five factors are settings.

The four points are not the 5-point (two mouth corners) layout the detectors regress, so records
carry no landmarks. Byte-identical images (the mirror holds 981 copies under other names) are kept
once: the first name in sorted order wins and the faces of all its copies' lines are merged when
they differ. Research use only (Caltech's terms).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from facedet.data.errors import AnnotationError, read_text
from facedet.data.records import ImageRecord
from facedet.data.stats import RecordList, drop_missing

GT_NAME = "WebFaces_GroundThruth.txt"


def parse_webfaces(text: str, source: str = "<text>") -> dict[str, np.ndarray]:
    """``{image name: (N, 8) float32 points}`` in file order; malformed lines raise AnnotationError."""
    faces: dict[str, list[list[float]]] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 9:
            raise AnnotationError(source, lineno, f"expected a name and 8 numbers, got {len(parts)} fields")
        try:
            values = [float(v) for v in parts[1:]]
        except ValueError:
            raise AnnotationError(source, lineno, f"not a number in {line.strip()!r}") from None
        if not np.isfinite(values).all() or max(abs(v) for v in values) >= 1e9:
            raise AnnotationError(source, lineno, "coordinate not finite or beyond 1e9 pixels")
        faces.setdefault(parts[0], []).append(values)
    return {name: np.asarray(v, np.float32) for name, v in faces.items()}


BoxShape = tuple[float, float, float]
WIDER_SHAPE: BoxShape = (0.78, 1.03, -0.03)  # width, height, centre-y shift, as fractions of the side
SQUARE: BoxShape = (1.0, 1.0, 0.0)


def points_to_boxes(points: np.ndarray, iod_factor: float = 2.2, mouth_factor: float = 2.6,
                    shape: BoxShape = WIDER_SHAPE) -> np.ndarray:
    """``(N, 8)`` points (left eye, right eye, nose, mouth) -> ``(N, 4)`` ``x1 y1 x2 y2`` boxes: the
    square of the module's rule, then ``shape`` = (width, height, centre-y shift) in units of its side."""
    p = np.asarray(points, np.float32).reshape(-1, 4, 2)
    eyes = (p[:, 0] + p[:, 1]) / 2
    iod = np.linalg.norm(p[:, 1] - p[:, 0], axis=1)
    eye_mouth = np.linalg.norm(p[:, 3] - eyes, axis=1)
    side = np.maximum(iod_factor * iod, mouth_factor * eye_mouth)
    cx = eyes[:, 0]
    cy = (p[:, 0, 1] + p[:, 1, 1] + p[:, 3, 1]) / 3 + shape[2] * side
    hw, hh = shape[0] * side / 2, shape[1] * side / 2
    return np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1).astype(np.float32)


def load_webfaces(path: str | os.PathLike, images_dir: str | os.PathLike | None = None,
                  iod_factor: float = 2.2, mouth_factor: float = 2.6, shape: BoxShape = WIDER_SHAPE,
                  dedupe: bool = True,
                  keep_missing: bool = False) -> RecordList:
    """Records of a WebFaces folder (``path`` = the folder holding ``WebFaces_GroundThruth.txt`` or the
    file itself; images default to ``images/`` beside it, else the file's own folder).

    ``dedupe`` hashes every present image once and keeps one name per content (see the module text).
    """
    p = Path(path)
    gt = p / GT_NAME if p.is_dir() else p
    root = Path(images_dir) if images_dir is not None else (
        gt.parent / "images" if (gt.parent / "images").is_dir() else gt.parent)
    faces = parse_webfaces(read_text(gt), str(gt))
    listed = len(faces)
    if dedupe:
        merged: dict[str, np.ndarray] = {}
        owner: dict[bytes, str] = {}
        for name in sorted(faces):
            f = root / name
            if not f.is_file():
                merged[name] = faces[name]
                continue
            digest = hashlib.sha1(f.read_bytes()).digest()
            first = owner.setdefault(digest, name)
            if first == name:
                merged[name] = faces[name]
            else:  # a copy: add the faces that the kept name does not already hold
                known = merged[first]
                new = [row for row in faces[name] if not np.any(np.all(np.abs(known - row) < 0.5, axis=1))]
                if new:
                    merged[first] = np.concatenate([known, np.asarray(new, np.float32)])
        faces = merged
    records = RecordList(
        ImageRecord(path=str(root / name), boxes=points_to_boxes(pts, iod_factor, mouth_factor, shape))
        for name, pts in faces.items()
    )
    records.source, records.listed = str(gt), listed
    if listed > len(records):
        records.notes["duplicate_images"] = listed - len(records)
    return drop_missing(records, keep_missing)
