"""RetinaFace / SCRFD ``label.txt`` annotations (boxes with optional 5-point landmarks).

Layout: ``# <relpath> [W H]`` starts an image; each following line is one face. Two box layouts
exist and the file does not say which, so the caller chooses with ``box_format``:

- ``"xyxy"`` (default; SCRFD ``labelv2.txt``): ``x1 y1 x2 y2`` then optionally 5 x ``(x, y, flag)``
  landmarks, i.e. 4, 5 or 19 numbers. A 5-number line whose 5th value is 1 is an **ignore** box
  (SCRFD's ``RetinaFaceDataset`` rule); any other 5th value gives a normal face.
- ``"xywh"`` (the original RetinaFace ``label.txt``): ``x y w h`` then 5 x ``(x, y, flag)`` and one
  trailing value (20 numbers; the last is an unused quality score and is dropped), or 4 numbers.

Landmarks: a point whose three values are all -1 is unannotated. ``landmark_valid[i]`` is True only
when all five points are annotated (the files mark a face either fully or not at all; a face with
some points missing is treated as having none, so no loss is computed on half-annotated faces).
Coordinates are kept as written (-1 for missing). Faces with ``w <= 0`` or ``h <= 0`` go to ``ignore``
like in the WIDER reader. Images are looked up under ``image_root`` (default: ``images/`` next to
the label file, the RetinaFace convention).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from facedet.checks import is_number_text
from facedet.data.errors import AnnotationError, check_path_text, read_text
from facedet.data.records import ImageRecord
from facedet.data.stats import RecordList, drop_missing

BOX_FORMATS = ("xyxy", "xywh")
_ALLOWED = {"xyxy": (4, 5, 19), "xywh": (4, 20)}


def _to_floats(parts: list[str], source: str, line: int) -> list[float]:
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        bad = next(p for p in parts if not is_number_text(p))
        raise AnnotationError(source, line, f"non-numeric field {bad[:30]!r}") from None
    if not all(abs(v) < 1e9 for v in vals):  # also rejects nan and inf
        raise AnnotationError(source, line, "value is not finite or out of range")
    return vals


def _finish(path: str, size: tuple[int, int] | None, faces: list[list[float]], ignores: list[list[float]],
            box_format: str, image_root: str) -> tuple[ImageRecord, int]:
    """Build one record from its parsed face lines; returns the record and its degenerate-box count."""
    n = len(faces)
    arr = np.asarray(faces, np.float64).reshape(n, 19)
    boxes = arr[:, :4].astype(np.float32)
    ign = np.asarray(ignores, np.float32).reshape(-1, 4)
    if box_format == "xywh":
        boxes[:, 2:] += boxes[:, :2]
        ign[:, 2:] += ign[:, :2]
    kps = arr[:, 4:19].reshape(n, 5, 3)
    missing_pt = (kps == -1).all(axis=2)  # (n, 5)
    valid_kps = ~missing_pt.any(axis=1)
    degenerate = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    keep = ~degenerate
    record = ImageRecord(
        path=os.path.join(image_root, path) if image_root else path,
        boxes=boxes[keep],
        ignore=np.concatenate([ign, boxes[degenerate]]).astype(np.float32),
        landmarks=kps[keep, :, :2].astype(np.float32),
        landmark_valid=valid_kps[keep],
        size=size,
    )
    parts = path.replace("\\", "/").split("/")
    record.event = parts[0] if len(parts) > 1 else ""
    return record, int(degenerate.sum())


def parse_label_txt(text: str, source: str = "<text>", image_root: str | os.PathLike = "",
                    box_format: str = "xyxy") -> RecordList:
    """Parse the text of a RetinaFace/SCRFD ``label.txt`` (see the module docstring for the rules).

    Malformed lines raise :class:`AnnotationError` (a ``ValueError``) naming ``source`` and the line.
    """
    if box_format not in BOX_FORMATS:
        raise ValueError(f"box_format must be one of {BOX_FORMATS}, got {box_format!r}")
    allowed = _ALLOWED[box_format]
    root = os.fspath(image_root)
    records: list[ImageRecord] = []
    degenerate = 0
    current: tuple[str, tuple[int, int] | None] | None = None
    faces: list[list[float]] = []
    ignores: list[list[float]] = []
    seen_any = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        seen_any = True
        if line.startswith("#"):
            if current is not None:
                rec, d = _finish(current[0], current[1], faces, ignores, box_format, root)
                records.append(rec)
                degenerate += d
            current = _header(line, source, lineno)
            faces, ignores = [], []
            continue
        if current is None:
            raise AnnotationError(source, lineno, "face line before the first '# <image path>' line")
        parts = line.split()
        if len(parts) not in allowed:
            hint = ""
            if box_format == "xyxy" and len(parts) == 20:
                hint = " (20 numbers is the x y w h RetinaFace layout: pass box_format='xywh')"
            raise AnnotationError(source, lineno,
                                  f"expected {' or '.join(map(str, allowed))} numbers, got {len(parts)}{hint}")
        vals = _to_floats(parts, source, lineno)
        if len(vals) == 5 and vals[4] == 1:
            ignores.append(vals[:4])
        else:
            faces.append(vals[:19] if len(vals) >= 19 else vals[:4] + [-1.0] * 15)
    if not seen_any:
        raise AnnotationError(source, 1, "empty annotation file")
    if current is not None:
        rec, d = _finish(current[0], current[1], faces, ignores, box_format, root)
        records.append(rec)
        degenerate += d
    return RecordList(records, source=source, notes={"degenerate_boxes": degenerate})


def _header(line: str, source: str, lineno: int) -> tuple[str, tuple[int, int] | None]:
    """Parse ``# <relpath> [W H]``."""
    parts = line[1:].split()
    if len(parts) not in (1, 3):
        raise AnnotationError(source, lineno, f"expected '# <image path> [W H]', got {line[:60]!r}")
    path = check_path_text(parts[0], source, lineno)
    size = None
    if len(parts) == 3:
        if not all(p.isascii() and p.isdigit() and len(p) < 9 for p in parts[1:]):
            raise AnnotationError(source, lineno, f"image size must be two positive integers, got {parts[1:]}")
        size = (int(parts[1]), int(parts[2]))
        if min(size) <= 0:
            raise AnnotationError(source, lineno, f"image size must be positive, got {size}")
    return path, size


def load_label_txt(path: str | os.PathLike, image_root: str | os.PathLike | None = None,
                   box_format: str = "xyxy", keep_missing: bool = False) -> RecordList:
    """Read a ``label.txt``; images default to ``images/`` beside it; absent images are skipped."""
    p = Path(path)
    root = p.parent / "images" if image_root is None else Path(image_root)
    records = parse_label_txt(read_text(p), str(p), root, box_format)
    return drop_missing(records, keep_missing)


def format_label_txt(records: list[ImageRecord]) -> str:
    """The ``xyxy`` ``label.txt`` text of ``records`` (inverse of :func:`parse_label_txt`): faces with
    their landmarks where valid (19 numbers) or as 4 numbers, ignore regions as 5 numbers ending in 1.
    Paths are written as the records hold them; a path with whitespace cannot be written."""
    lines: list[str] = []
    for rec in records:
        if any(c.isspace() for c in rec.path):
            raise ValueError(f"{rec.path!r}: a label.txt path cannot hold whitespace")
        size = f" {rec.size[0]} {rec.size[1]}" if rec.size else ""
        lines.append(f"# {rec.path}{size}")
        for i, box in enumerate(rec.boxes):
            nums = [f"{v:.2f}" for v in box]
            if rec.landmarks is not None and rec.landmark_valid is not None and rec.landmark_valid[i]:
                for x, y in rec.landmarks[i]:
                    nums += [f"{x:.2f}", f"{y:.2f}", "0.0"]
            lines.append(" ".join(nums))
        lines.extend(" ".join(f"{v:.2f}" for v in box) + " 1" for box in rec.ignore)
    return "\n".join(lines) + "\n"
