"""WIDER FACE prediction folders: ``<pred>/<event>/<name>.txt`` writer and MATLAB-faithful reader.

File layout (spec ``eval_protocol.md`` §1.2): line 1 the image name (ignored by MATLAB), line 2 the
number of boxes, then one ``x y w h score`` row per box. The writer sorts rows by descending score
(stable) and writes a file even for an image without detections, so MATLAB and the Python ports read
it the same way. The reader follows ``read_pred.m``: files are located from the ground-truth lists,
a missing file means no detections, line 2 is the count, columns 1-5 of rows 3..count+2 are used and
extra rows are ignored; any format error makes MATLAB give the image no detections. ``strict=True``
raises ``ValueError`` naming the file and line instead.

Values the official code reads but gives no meaning to are kept as it keeps them (so AP matches
MATLAB's) and reported, file and line, as *suspect*: a non-finite coordinate or score (one ``inf``
score makes ``norm_score.m`` squash every other score of the set to 0 and wrecks AP), and a negative
width or height. ``strict`` makes each of them, and a missing file, an error.

Choice (documented, not verifiable without MATLAB): lines holding only whitespace are skipped before
counting, as ``textscan(fid, '%s', 'Delimiter', '\\n')`` does; fields may be separated by spaces,
tabs or commas, as ``str2num`` accepts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facedet.atomic import write_text_atomic
from facedet.types import Detections

_SPLIT = re.compile(r"[\s,]+")
Key = tuple[str, str]


@dataclass
class ReadReport:
    """What the reader could not use: missing files and files MATLAB would reject (path: reason)."""

    missing: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    suspect: list[str] = field(default_factory=list)

    def messages(self, limit: int = 5) -> list[str]:
        """Human-readable warnings (at most ``limit`` examples of each kind)."""
        out = []
        if self.missing:
            ex = ", ".join(self.missing[:limit])
            out.append(f"{len(self.missing)} prediction file(s) missing (no detections), e.g. {ex}")
        for msg in self.invalid[:limit]:
            out.append(f"invalid prediction file (no detections): {msg}")
        if len(self.invalid) > limit:
            out.append(f"... and {len(self.invalid) - limit} more invalid file(s)")
        for msg in self.suspect[:limit]:
            out.append(f"suspect prediction (kept, as the official code keeps it): {msg}")
        if len(self.suspect) > limit:
            out.append(f"... and {len(self.suspect) - limit} more suspect row(s)")
        return out


def detections_to_rows(det: Detections) -> np.ndarray:
    """``Detections`` (xyxy) -> ``(N,5)`` float64 rows ``x y w h score`` with ``w = x2 - x1``.

    The evaluator rebuilds ``x2 = x + w`` and adds the +1 itself, so the continuous width is written.
    """
    b = det.boxes.astype(np.float64)
    rows = np.empty((len(b), 5), dtype=np.float64)
    rows[:, :2] = b[:, :2]
    rows[:, 2:4] = b[:, 2:4] - b[:, :2]
    rows[:, 4] = det.scores
    return rows


def sort_rows(rows: np.ndarray) -> np.ndarray:
    """Rows sorted by descending score with a stable sort (MATLAB ``sort(...,'descend')``; NaN first)."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2:
        rows = rows.reshape(-1, 5)
    s = rows[:, 4]
    nan = np.isnan(s)
    order = np.lexsort((np.where(nan, 0.0, -s), ~nan))
    return rows[order]


def _fmt(v: float) -> str:
    """Shortest text that reads back to the same double (``12.0`` -> ``12``)."""
    r = repr(float(v))
    return r[:-2] if r.endswith(".0") else r


def format_prediction(name: str, rows: np.ndarray) -> str:
    """Text of one prediction file: name, count, then sorted ``x y w h score`` rows."""
    rows = sort_rows(np.asarray(rows, dtype=np.float64).reshape(-1, 5) if np.size(rows) else np.zeros((0, 5)))
    lines = [name, str(len(rows))]
    lines.extend(" ".join(_fmt(v) for v in row) for row in rows[:, :5].tolist())
    return "\n".join(lines) + "\n"


def write_predictions(
    pred_dir: str | Path,
    predictions: Mapping[Key, np.ndarray | Detections],
    keys: Iterable[Key] | None = None,
) -> int:
    """Write one file per image into ``pred_dir/<event>/<name>.txt``; returns the number of files.

    ``predictions`` maps ``(event, name)`` to ``(N,>=5)`` rows ``x y w h score`` or to ``Detections``.
    When ``keys`` (e.g. ``gt.keys``) is given, every listed image gets a file (count 0 if it has no
    entry) and only those images are written.
    """
    pred_dir = Path(pred_dir)
    todo = list(keys) if keys is not None else list(predictions)
    made: set[str] = set()
    for event, name in todo:
        value = predictions.get((event, name))
        if value is None:
            rows = np.zeros((0, 5))
        elif isinstance(value, Detections):
            rows = detections_to_rows(value)
        else:
            rows = np.asarray(value, dtype=np.float64)
            rows = rows[:, :5] if rows.size else np.zeros((0, 5))
        d = pred_dir / event
        if event not in made:
            d.mkdir(parents=True, exist_ok=True)
            made.add(event)
        write_text_atomic(d / f"{name}.txt", format_prediction(name, rows))
    return len(todo)


class _Bad(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")


def _suspect(rows: np.ndarray, lines: list[int]) -> list[tuple[int, str]]:
    """``(line, reason)`` of rows with non-finite values or a negative width or height (unsorted rows)."""
    bad: list[tuple[int, str]] = []
    finite = np.isfinite(rows)
    for k in np.flatnonzero(~finite.all(1) | (rows[:, 2] < 0) | (rows[:, 3] < 0)):
        if not finite[k].all():
            what = ", ".join(n for n, ok in zip(("x", "y", "w", "h", "score"), finite[k], strict=True) if not ok)
            bad.append((lines[k], f"non-finite {what}"))
        else:
            bad.append((lines[k], f"negative {'width' if rows[k, 2] < 0 else 'height'}"))
    return bad


def parse_prediction_text(text: str, score_col: int = 4, suspect: list[tuple[int, str]] | None = None) -> np.ndarray:
    """Rows ``(N,5)`` of one file's text, sorted like MATLAB; raises ``_Bad`` (line, reason) on bad format.

    ``score_col=-1`` takes the score from the last column, as peiyunh/tiny's ``read_pred.m`` does.
    ``suspect``, when given, receives the ``(line, reason)`` of the suspect rows (module docstring).
    """
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(text.splitlines())]
    lines = [(i, ln) for i, ln in lines if ln]
    if len(lines) < 2:
        raise _Bad(len(text.splitlines()) + 1, "missing the count line (line 2)")
    cline, ctext = lines[1]
    try:
        cval = float(ctext)
    except ValueError:
        raise _Bad(cline, f"count is not a number: {ctext!r}") from None
    if not np.isfinite(cval) or cval != int(cval):
        raise _Bad(cline, f"count is not an integer: {ctext!r}")
    count = int(cval)
    if count < 0:
        raise _Bad(cline, f"negative count {count}")
    if count == 0:
        return np.zeros((0, 5))
    body = lines[2 : 2 + count]
    if len(body) < count:
        last = lines[-1][0]
        raise _Bad(last + 1, f"count says {count} rows but the file has {len(body)}")
    out = np.empty((count, 5), dtype=np.float64)
    split = [row.split() for _, row in body]  # fast path: uniform whitespace-separated numeric rows
    width = len(split[0])
    if width >= 5 and all(len(p) == width for p in split):
        try:
            arr = np.array(split, dtype=np.float64)
        except ValueError:
            arr = None
        if arr is not None:
            out[:, :4] = arr[:, :4]
            out[:, 4] = arr[:, score_col]
            if suspect is not None:
                suspect.extend(_suspect(out, [ln for ln, _ in body]))
            return sort_rows(out)
    for k, (ln, row) in enumerate(body):
        parts = _SPLIT.split(row)
        if len(parts) < 5:
            raise _Bad(ln, f"expected at least 5 values 'x y w h score', got {len(parts)}")
        try:
            vals = [float(p) for p in parts]
        except ValueError:
            raise _Bad(ln, f"unparsable row {row!r}") from None
        out[k, :4] = vals[:4]
        out[k, 4] = vals[score_col]
    if suspect is not None:
        suspect.extend(_suspect(out, [ln for ln, _ in body]))
    return sort_rows(out)


def _read(path: Path, strict: bool, score_col: int, suspect: list[str] | None = None
          ) -> tuple[np.ndarray | None, str]:
    """Rows of one file, or ``(None, reason)`` when MATLAB would reject it (``strict``: raise).
    Suspect rows go to ``suspect`` as ``path:line: reason`` (``strict``: raise)."""
    text = path.read_text(errors="replace")
    found: list[tuple[int, str]] = []
    try:
        rows = parse_prediction_text(text, score_col, found)
    except _Bad as exc:
        if strict:
            raise ValueError(f"{path}: {exc}") from None
        return None, f"{path}: {exc}"
    if found and strict:
        raise ValueError(f"{path}: line {found[0][0]}: {found[0][1]}")
    if suspect is not None:
        suspect.extend(f"{path}:{line}: {reason}" for line, reason in found)
    if strict:
        nonblank = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip()]
        if len(nonblank) > len(rows) + 2:
            raise ValueError(f"{path}: line {nonblank[len(rows) + 2]}: more rows than the count ({len(rows)})")
    return rows, ""


def read_prediction_file(path: str | Path, strict: bool = False, score_col: int = 4) -> np.ndarray | None:
    """Rows of one file. ``None`` when the file is invalid (MATLAB: no detections) unless ``strict``.

    With ``strict=True`` a malformed file raises ``ValueError`` naming the file and line, and a count
    smaller than the number of rows (MATLAB silently ignores the extra rows) is an error too.
    """
    return _read(Path(path), strict, score_col)[0]


def read_predictions(
    pred_dir: str | Path,
    keys: Iterable[Key] | None = None,
    strict: bool = False,
    score_col: int = 4,
) -> tuple[dict[Key, np.ndarray], ReadReport]:
    """Read ``pred_dir/<event>/<name>.txt`` for every ``(event, name)`` in ``keys`` (the gt order).

    Without ``keys`` every ``*.txt`` one folder deep is read. Missing and invalid files are listed in
    the report and get no entry (no detections); suspect rows are kept and listed in the report.
    ``strict`` raises on the first invalid file, suspect row or missing file, and on a folder that
    holds none of the files.
    """
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"prediction folder not found: {pred_dir}")
    if keys is None:
        keys = list_prediction_files(pred_dir)
    report = ReadReport()
    out: dict[Key, np.ndarray] = {}
    keys = list(keys)
    for event, name in keys:
        path = pred_dir / event / f"{name}.txt"
        if not path.is_file():
            if strict:
                raise ValueError(f"{path}: missing prediction file (--strict; without it the image counts as "
                                 "having no detections)")
            report.missing.append(f"{event}/{name}")
            continue
        rows, reason = _read(path, strict, score_col, report.suspect)
        if rows is None:
            report.invalid.append(reason)
        else:
            out[(event, name)] = rows
    return out, report


def list_prediction_files(pred_dir: str | Path) -> list[Key]:
    """``(event, name)`` of every ``<event>/<name>.txt`` under ``pred_dir``, sorted."""
    pred_dir = Path(pred_dir)
    keys: list[Key] = []
    for event in sorted(os.listdir(pred_dir)):
        d = pred_dir / event
        if d.is_dir():
            keys.extend((event, f[:-4]) for f in sorted(os.listdir(d)) if f.endswith(".txt"))
    return keys
