"""WIDER FACE annotations: the official ``wider_face_{split}_bbx_gt.txt`` and ``wider_face_{split}.mat``.

Both become :class:`ImageRecord` lists with ``x1 y1 x2 y2`` boxes (``x2 = x + w``, ``y2 = y + h``, no
+1: the official evaluator adds it itself). Choices, each documented where it is made:

- ``invalid == 1`` faces go to ``ignore`` (neither positives nor negatives).
- A row of ten zeros is the "no face" placeholder (the official files list 4 such images per split
  as ``count 1`` + that row; the readme's ``count 0`` form is followed by the same row): it yields
  no box and is counted in ``notes["placeholder_rows"]``. ``count 0`` may also stand alone.
- Other boxes with ``w <= 0`` or ``h <= 0`` (27 in train, 7 in val) cannot be matched by any anchor
  and break log-space box encoders; they go to ``ignore`` and are counted in
  ``notes["degenerate_boxes"]``.
- The six attribute columns of every valid face are kept in ``attributes`` as ``(N,)`` int32 arrays
  named ``blur, expression, illumination, invalid, occlusion, pose``.

The text parser runs one Python step per image and a single vectorised conversion for all rows:
the full train file (12,880 images, 185k lines) parses in a fraction of a second.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from facedet.data.errors import AnnotationError, check_path_text, read_text
from facedet.data.records import ImageRecord
from facedet.data.stats import RecordList, drop_missing

ATTRIBUTES: tuple[str, ...] = ("blur", "expression", "illumination", "invalid", "occlusion", "pose")
SPLITS: tuple[str, ...] = ("train", "val", "test")
_INT_LIMIT = 2**31


def _is_int(tok: str) -> bool:
    t = tok[1:] if tok[:1] in "+-" else tok
    return t.isascii() and t.isdigit()


def _parse_row(text: str, source: str, line: int, context: str) -> list[int]:
    """Parse one face row (10 integers) or raise an error naming the line."""
    parts = text.split()
    if len(parts) != 10 or not all(_is_int(p) for p in parts):
        got = f"{len(parts)} field(s)" if len(parts) != 10 else "non-integer fields"
        if len(parts) != 10 and all(_is_int(p) for p in parts):
            got = str(len(parts))
        raise AnnotationError(source, line, f"expected 10 integers, got {got}: {text.strip()[:60]!r}{context}")
    vals = [int(p) for p in parts]
    if any(abs(v) >= _INT_LIMIT for v in vals):
        raise AnnotationError(source, line, f"value out of range: {text.strip()[:60]!r}")
    return vals


def parse_wider_txt(text: str, source: str = "<text>", image_root: str | os.PathLike = "") -> RecordList:
    """Parse the text of a ``wider_face_*_bbx_gt.txt``; image paths are joined to ``image_root``.

    Raises :class:`AnnotationError` (a ``ValueError``) naming ``source`` and the line for non-numeric
    fields, wrong column counts, negative or missing counts, truncated files and empty input.
    """
    lines = text.splitlines()
    keep = [i for i, s in enumerate(lines) if s and not s.isspace()]
    if not keep:
        raise AnnotationError(source, 1, "empty annotation file")
    texts = [lines[i] for i in keep]
    n = len(texts)
    paths: list[str] = []
    counts: list[int] = []
    row_pos: list[int] = []  # index into texts of each face row
    placeholders = 0
    j = 0
    while j < n:
        path_line = keep[j] + 1
        rel = texts[j].strip()
        if rel[-1:].isdigit() and all(_is_int(p) for p in rel.split()):
            raise AnnotationError(source, path_line, f"expected an image path, got {rel[:60]!r}")
        rel = check_path_text(rel, source, path_line)
        j += 1
        if j >= n:
            raise AnnotationError(source, path_line + 1, f"truncated: image {rel!r} has no face-count line")
        tok = texts[j].strip()
        if not _is_int(tok):
            raise AnnotationError(source, keep[j] + 1, f"expected a face count (one integer), got {tok[:60]!r}")
        count = int(tok)
        if count < 0:
            raise AnnotationError(source, keep[j] + 1, f"negative face count {count}")
        if count >= _INT_LIMIT:
            raise AnnotationError(source, keep[j] + 1, f"face count {count} out of range")
        j += 1
        if count == 0:
            # The readme form: "0" then one placeholder row of ten zeros, which is consumed.
            if j < n and len(texts[j].split()) == 10 and all(_is_int(p) for p in texts[j].split()):
                if any(int(p) for p in texts[j].split()):
                    raise AnnotationError(source, keep[j] + 1,
                                          "a face count of 0 must be followed by the all-zero placeholder row")
                placeholders += 1
                j += 1
        elif j + count > n:
            have = n - j
            raise AnnotationError(source, len(lines) + 1,
                                  f"truncated: image {rel!r} declares {count} faces, file ends after {have} rows")
        row_pos.extend(range(j, j + count))
        j += count
        paths.append(rel)
        counts.append(count)

    rows = _rows_to_array(texts, keep, row_pos, paths, counts, source)
    return _build_records(paths, np.asarray(counts, np.int64), rows, image_root, source,
                          line_of_row=np.asarray(keep, np.int64)[np.asarray(row_pos, np.int64)] + 1,
                          placeholders=placeholders)


def _rows_to_array(texts: list[str], keep: list[int], row_pos: list[int], paths: list[str],
                   counts: list[int], source: str) -> np.ndarray:
    """All face rows as one ``(R, 10)`` float64 array; on any bad row, re-scan to name its line.

    Fast path: every row must split into 10 fields, the joined text may hold only ASCII digits,
    signs and blanks, and one C-level ``np.fromstring`` must yield exactly ``10 R`` numbers below
    2**31 in magnitude. Anything else falls back to a per-row parse that names the bad line.
    """
    rows = [texts[p] for p in row_pos]
    try:
        if any(len(r.split()) != 10 for r in rows):
            raise ValueError
        blob = " ".join(rows).encode("ascii")
        if blob.translate(None, b"0123456789+- \t\v\f\r"):
            raise ValueError
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # int64 parsing saturates out-of-range values, which the magnitude test then rejects
            arr = np.fromstring(blob, dtype=np.int64, sep=" ") if blob else np.zeros(0, np.int64)
        if arr.size != 10 * len(rows) or (arr.size and np.abs(arr).max() >= _INT_LIMIT):
            raise ValueError
        return arr.reshape(-1, 10).astype(np.float64)
    except (ValueError, UnicodeEncodeError, DeprecationWarning):
        owner = np.repeat(np.arange(len(paths)), counts)
        starts = np.concatenate([[0], np.cumsum(counts)])
        for k, p in enumerate(row_pos):
            i = int(owner[k])
            ctx = f" (image {paths[i]!r} declares {counts[i]} faces; this is row {k - int(starts[i]) + 1})"
            _parse_row(texts[p], source, keep[p] + 1, ctx)
        raise AnnotationError(source, 0, "unparsable face rows") from None  # pragma: no cover


def _build_records(paths: list[str], counts: np.ndarray, rows: np.ndarray, image_root: str | os.PathLike,
                   source: str, line_of_row: np.ndarray | None = None, placeholders: int = 0) -> RecordList:
    """Turn per-image face counts and ``(R, 10)`` rows ``x y w h`` + 6 attributes into records."""
    invalid = rows[:, 7]
    bad = np.flatnonzero((invalid != 0) & (invalid != 1))
    if len(bad):
        line = int(line_of_row[bad[0]]) if line_of_row is not None else 0
        raise AnnotationError(source, line, f"invalid flag must be 0 or 1, got {rows[bad[0], 7]:g}")
    image_of = np.repeat(np.arange(len(paths)), counts)
    is_placeholder = ~rows.any(axis=1)
    degenerate = ((rows[:, 2] <= 0) | (rows[:, 3] <= 0)) & ~is_placeholder
    valid = (invalid == 0) & ~degenerate & ~is_placeholder
    ignored = ~valid & ~is_placeholder
    xyxy = np.concatenate([rows[:, :2], rows[:, :2] + rows[:, 2:4]], axis=1).astype(np.float32)
    attrs = rows[:, 4:].astype(np.int32)
    vb, ib = xyxy[valid], xyxy[ignored]
    va = np.ascontiguousarray(attrs[valid].T)  # (6, V): per-image slices are 6 views in one step
    off_v = np.concatenate([[0], np.cumsum(np.bincount(image_of[valid], minlength=len(paths)))]).tolist()
    off_i = np.concatenate([[0], np.cumsum(np.bincount(image_of[ignored], minlength=len(paths)))]).tolist()
    root = os.fspath(image_root)
    records = []
    for k, rel in enumerate(paths):
        rel_posix = rel.replace("\\", "/")
        a0, a1, i0, i1 = off_v[k], off_v[k + 1], off_i[k], off_i[k + 1]
        records.append(ImageRecord(
            path=os.path.join(root, rel) if root else rel,
            boxes=vb[a0:a1],
            ignore=ib[i0:i1],
            attributes=dict(zip(ATTRIBUTES, va[:, a0:a1], strict=True)),
            event=rel_posix.split("/", 1)[0] if "/" in rel_posix else "",
        ))
    notes = {"placeholder_rows": placeholders + int(is_placeholder.sum()),
             "degenerate_boxes": int(degenerate.sum()), "invalid_faces": int((invalid == 1).sum())}
    return RecordList(records, source=source, listed=len(records), notes=notes)


def load_wider_txt(path: str | os.PathLike, image_root: str | os.PathLike | None = None,
                   keep_missing: bool = False) -> RecordList:
    """Read a ``bbx_gt.txt``; ``image_root`` defaults to ``<file>/../../WIDER_<split>/images``.

    Records whose image is absent are dropped (counted in ``.skipped``, logged) unless ``keep_missing``.
    """
    p = Path(path)
    if image_root is None:
        image_root = p.parent.parent / f"WIDER_{split_of(p.name)}" / "images"
    records = parse_wider_txt(read_text(p), str(p), image_root)
    return drop_missing(records, keep_missing)


def split_of(filename: str) -> str:
    """The split named in an official WIDER file name (``wider_face_val_bbx_gt.txt`` -> ``val``)."""
    for s in SPLITS:
        if f"_{s}_" in filename or filename.endswith(f"_{s}.mat"):
            return s
    raise ValueError(f"{filename}: cannot tell the split from the file name; pass image_root")


def _cell(x: np.ndarray) -> np.ndarray:
    return np.asarray(x).reshape(-1)


def load_wider_mat(path: str | os.PathLike, image_root: str | os.PathLike | None = None,
                   keep_missing: bool = False) -> RecordList:
    """Read the official ``wider_face_{split}.mat`` (also the val ground-truth files) into records.

    The structure (61x1 cells ``event_list``, ``file_list``, ``face_bbx_list`` and the six
    ``*_label_list``) is described in the evaluation-protocol notes; errors name the event and image.
    """
    from facedet.optional import require

    scipy_io = require("scipy.io", "eval", "reading WIDER .mat annotations")

    p = Path(path)
    source = str(p)
    if image_root is None:
        image_root = p.parent.parent / f"WIDER_{split_of(p.name)}" / "images"
    try:
        mat = scipy_io.loadmat(str(p))
    except FileNotFoundError:
        raise
    except Exception as exc:  # scipy raises many exception types for a corrupt file
        raise AnnotationError(source, 0, f"not a readable MATLAB file ({exc})") from None
    names = ["event_list", "file_list", "face_bbx_list"] + [f"{a}_label_list" for a in ATTRIBUTES]
    missing = [k for k in names if k not in mat]
    if missing:
        raise AnnotationError(source, 0, f"missing variables {missing}")
    try:
        cells = {k: _cell(mat[k]) for k in names}
        paths, counts, chunks = [], [], []
        for e, ev in enumerate(cells["event_list"]):
            event = str(_cell(ev)[0])
            files = _cell(cells["file_list"][e])
            bbx = _cell(cells["face_bbx_list"][e])
            labels = [_cell(cells[f"{a}_label_list"][e]) for a in ATTRIBUTES]
            for f, fname in enumerate(files):
                b = np.asarray(bbx[f], np.float64).reshape(-1, 4)
                cols = [np.asarray(lab[f], np.float64).reshape(-1, 1) for lab in labels]
                if any(len(c) != len(b) for c in cols):
                    raise AnnotationError(source, 0, f"event {event!r} image {f + 1}: label and box counts differ")
                paths.append(f"{event}/{_cell(fname)[0]}.jpg")
                counts.append(len(b))
                chunks.append(np.concatenate([b, *cols], axis=1))
    except AnnotationError:
        raise
    except (IndexError, ValueError, TypeError) as exc:
        raise AnnotationError(source, 0, f"unexpected cell structure ({exc})") from None
    rows = np.concatenate(chunks) if chunks else np.zeros((0, 10))
    records = _build_records(paths, np.asarray(counts, np.int64), rows, image_root, source)
    return drop_missing(records, keep_missing)


def load_wider(root: str | os.PathLike, split: str = "train", source: str = "auto",
               keep_missing: bool = False) -> RecordList:
    """Load a WIDER FACE root (``wider_face_split/`` + ``WIDER_<split>/images``) for one split.

    ``source``: ``"txt"`` (the ``bbx_gt.txt``), ``"mat"`` (``wider_face_<split>.mat``) or ``"auto"``
    (the text file when present, else the .mat). Absent images are skipped and counted.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    r = Path(root)
    txt = r / "wider_face_split" / f"wider_face_{split}_bbx_gt.txt"
    mat = r / "wider_face_split" / f"wider_face_{split}.mat"
    images = r / f"WIDER_{split}" / "images"
    if source == "auto":
        source = "txt" if txt.is_file() else "mat"
    if source == "txt":
        if not txt.is_file():
            raise FileNotFoundError(f"{txt}: no such annotation file")
        return load_wider_txt(txt, images, keep_missing)
    if source == "mat":
        if not mat.is_file():
            raise FileNotFoundError(f"{mat}: no such annotation file (nor {txt.name})")
        return load_wider_mat(mat, images, keep_missing)
    raise ValueError(f"source must be 'auto', 'txt' or 'mat', got {source!r}")
