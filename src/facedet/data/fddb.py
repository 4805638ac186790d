"""FDDB annotations: ``FDDB-fold-XX.txt`` image lists and ``FDDB-fold-XX-ellipseList.txt`` ellipses.

Ellipse list format (FDDB README): per image its name (``2002/08/11/big/img_591``), the number of
faces, then one ``major_axis_radius minor_axis_radius angle center_x center_y 1`` line per face
(angle in radians). Malformed input raises ``ValueError`` naming the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facedet.data.records import ImageRecord


@dataclass
class FddbImage:
    """One FDDB image: name (no extension), ``(k,5)`` float64 ellipses ``ra rb theta cx cy``, fold."""

    name: str
    ellipses: np.ndarray
    fold: int = 0


def fold_list_path(folds_dir: str | Path, fold: int) -> Path:
    return Path(folds_dir) / f"FDDB-fold-{fold:02d}.txt"


def ellipse_list_path(folds_dir: str | Path, fold: int) -> Path:
    return Path(folds_dir) / f"FDDB-fold-{fold:02d}-ellipseList.txt"


def read_fold_list(path: str | Path) -> list[str]:
    """Image names of one fold, one per line (blank lines skipped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FDDB fold list not found: {path}")
    return [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]


def read_ellipse_list(path: str | Path) -> list[tuple[str, np.ndarray]]:
    """``(name, ellipses (k,5))`` per image in file order; ``ValueError`` with file:line on bad lines."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FDDB ellipse list not found: {path}")
    lines = path.read_text().splitlines()
    out: list[tuple[str, np.ndarray]] = []
    i = 0
    n = len(lines)
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        name = lines[i].strip()
        if i + 1 >= n:
            raise ValueError(f"{path}:{i + 2}: missing face count after image '{name}'")
        try:
            k = int(lines[i + 1].strip())
        except ValueError:
            raise ValueError(f"{path}:{i + 2}: face count must be an integer, got {lines[i + 1].strip()!r}") from None
        if k < 0:
            raise ValueError(f"{path}:{i + 2}: negative face count {k}")
        ell = np.zeros((k, 5), dtype=np.float64)
        for j in range(k):
            ln = i + 2 + j
            if ln >= n:
                raise ValueError(f"{path}:{ln + 1}: image '{name}' says {k} faces but the file ends")
            parts = lines[ln].split()
            try:
                vals = [float(p) for p in parts]
            except ValueError:
                raise ValueError(f"{path}:{ln + 1}: unparsable ellipse line {lines[ln]!r}") from None
            if len(vals) < 5:
                raise ValueError(f"{path}:{ln + 1}: expected 'ra rb theta cx cy 1', got {len(vals)} values")
            ell[j] = vals[:5]
        out.append((name, ell))
        i += 2 + k
    return out


def load_fddb_folds(
    folds_dir: str | Path,
    folds: Iterable[int] = range(1, 11),
    ellipse_file: str | Path | None = None,
) -> list[FddbImage]:
    """Images of the given folds in fold order, with their ellipses.

    Each fold's image list must match its ellipse list name for name (the official tool aborts
    otherwise). ``ellipse_file`` replaces the per-fold ellipse lists by one file covering the selected
    images (e.g. the 5,409-face list of sfzhang15/SFD); its images are looked up by name.
    """
    alt = None
    if ellipse_file is not None:
        alt = dict(read_ellipse_list(ellipse_file))
    images: list[FddbImage] = []
    for f in folds:
        names = read_fold_list(fold_list_path(folds_dir, f))
        if alt is not None:
            missing = [nm for nm in names if nm not in alt]
            if missing:
                raise ValueError(
                    f"{ellipse_file}: no annotation for {len(missing)} images of fold {f}, e.g. {missing[0]}"
                )
            images.extend(FddbImage(nm, alt[nm], f) for nm in names)
            continue
        epath = ellipse_list_path(folds_dir, f)
        ell = read_ellipse_list(epath)
        if [e[0] for e in ell] != names:
            bad = next((k for k, (a, b) in enumerate(zip(names, ell, strict=False)) if a != b[0]), None)
            where = f"image {bad + 1}: '{names[bad]}' vs '{ell[bad][0]}'" if bad is not None else "lengths differ"
            raise ValueError(f"{epath}: images differ from {fold_list_path(folds_dir, f)} ({where})")
        images.extend(FddbImage(nm, e, f) for nm, e in ell)
    return images


def ellipse_to_box(ellipses: np.ndarray) -> np.ndarray:
    """Axis-aligned bounding boxes ``x1 y1 x2 y2`` of rotated ellipses ``ra rb theta cx cy``."""
    ra, rb, t, cx, cy = (ellipses[:, i] for i in range(5))
    hw = np.sqrt((ra * np.cos(t)) ** 2 + (rb * np.sin(t)) ** 2)
    hh = np.sqrt((ra * np.sin(t)) ** 2 + (rb * np.cos(t)) ** 2)
    return np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1)


def fddb_records(images: list[FddbImage], images_dir: str | Path, ext: str = ".jpg") -> list[ImageRecord]:
    """``ImageRecord`` per image (path ``images_dir/name.jpg``, boxes = ellipse bounding boxes)."""
    root = Path(images_dir)
    return [
        ImageRecord(path=str(root / f"{im.name}{ext}"), boxes=ellipse_to_box(im.ellipses).astype(np.float32),
                    attributes={"ellipses": im.ellipses.astype(np.float32)})
        for im in images
    ]
