"""Data set bookkeeping: the record list every loader returns (with what was listed and what was
skipped), the partial-download filter, and summary statistics (face counts and a size histogram).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from facedet.data.records import ImageRecord

log = logging.getLogger(__name__)

#: Histogram edges of face height in pixels: <8, 8-16, 16-32, 32-64, 64-128, 128-256, >=256.
HEIGHT_EDGES: tuple[float, ...] = (8, 16, 32, 64, 128, 256)


class RecordList(list[ImageRecord]):
    """A ``list[ImageRecord]`` that also says where it came from and what the loader left out.

    - ``source``: the annotation file or folder read.
    - ``listed``: images the annotations list; ``len(self)`` of them are kept.
    - ``skipped``: listed images left out because their file is absent (partial downloads).
    - ``notes``: other counts a reader wants to report, e.g. ``placeholder_rows`` (WIDER "no face"
      rows that yield no box) or ``degenerate_boxes`` (w <= 0 or h <= 0, moved to ``ignore``).
    """

    def __init__(self, records: Iterable[ImageRecord] = (), *, source: str = "", listed: int | None = None,
                 skipped: int = 0, notes: dict[str, int] | None = None) -> None:
        super().__init__(records)
        self.source = source
        self.listed = len(self) if listed is None else int(listed)
        self.skipped = int(skipped)
        self.notes: dict[str, int] = dict(notes or {})


def drop_missing(records: RecordList, keep_missing: bool = False) -> RecordList:
    """Keep the records whose image file exists; count and log the others (partial downloads).

    With ``keep_missing=True`` nothing is dropped (useful for evaluating against the full list).
    """
    if keep_missing:
        return records
    present = [r for r in records if os.path.isfile(r.path)]
    skipped = len(records) - len(present)
    out = RecordList(present, source=records.source, listed=records.listed, skipped=records.skipped + skipped,
                     notes=records.notes)
    if skipped:
        log.warning("%s: %d of %d listed images are absent on disk and were skipped (%d kept)",
                    records.source, skipped, records.listed, len(present))
    return out


@dataclass
class DatasetStats:
    """Summary of a record list: image counts, face counts and a histogram of valid-face heights."""

    source: str
    images_present: int
    images_listed: int
    images_skipped: int
    faces: int
    ignored: int
    images_without_faces: int
    with_landmarks: int
    height_bins: list[str]
    height_counts: list[int]
    notes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-JSON form (for ``facedet data stats --json``)."""
        return {
            "source": self.source,
            "images": {"present": self.images_present, "listed": self.images_listed,
                       "skipped": self.images_skipped, "without_faces": self.images_without_faces},
            "faces": self.faces,
            "ignored": self.ignored,
            "with_landmarks": self.with_landmarks,
            "height_histogram": dict(zip(self.height_bins, self.height_counts, strict=True)),
            "notes": dict(self.notes),
        }

    def format_table(self) -> str:
        """Human-readable summary with the height histogram as a table."""
        lines = [
            f"source           {self.source}",
            f"images           {self.images_present} present / {self.images_listed} listed "
            f"({self.images_skipped} skipped as absent)",
            f"faces            {self.faces}",
            f"ignored faces    {self.ignored}",
            f"images, 0 faces  {self.images_without_faces}",
            f"with landmarks   {self.with_landmarks}",
        ]
        if self.notes:
            lines += ["", "over every listed image:"] + [f"  {k:<18} {v}" for k, v in self.notes.items()]
        total = max(self.faces, 1)
        lines += ["", "face height (px)   count       %", "-" * 33]
        for name, count in zip(self.height_bins, self.height_counts, strict=True):
            lines.append(f"{name:<15} {count:>8} {100.0 * count / total:>7.1f}")
        return "\n".join(lines)


def height_bin_names(edges: tuple[float, ...] = HEIGHT_EDGES) -> list[str]:
    """Names of the histogram bins: ``<8``, ``8-16``, ..., ``>=256``."""
    e = [f"{v:g}" for v in edges]
    return [f"<{e[0]}"] + [f"{a}-{b}" for a, b in zip(e[:-1], e[1:], strict=True)] + [f">={e[-1]}"]


def height_histogram(heights: np.ndarray, edges: tuple[float, ...] = HEIGHT_EDGES) -> np.ndarray:
    """Counts of ``heights`` per bin; bin i holds edges[i-1] <= h < edges[i] (open ends outside)."""
    idx = np.searchsorted(np.asarray(edges, np.float64), np.asarray(heights, np.float64), side="right")
    return np.bincount(idx, minlength=len(edges) + 1)


def summarize(records: list[ImageRecord], edges: tuple[float, ...] = HEIGHT_EDGES) -> DatasetStats:
    """Count images, valid and ignored faces, and histogram valid-face heights (y2 - y1)."""
    boxes = [r.boxes for r in records if len(r.boxes)]
    all_boxes = np.concatenate(boxes) if boxes else np.zeros((0, 4), np.float32)
    heights = all_boxes[:, 3] - all_boxes[:, 1]
    with_kps = sum(int(r.landmark_valid.sum()) for r in records if r.landmark_valid is not None)
    listed = getattr(records, "listed", len(records))
    return DatasetStats(
        source=getattr(records, "source", ""),
        images_present=len(records),
        images_listed=listed,
        images_skipped=getattr(records, "skipped", 0),
        faces=int(len(all_boxes)),
        ignored=int(sum(len(r.ignore) for r in records)),
        images_without_faces=sum(1 for r in records if len(r.boxes) == 0),
        with_landmarks=with_kps,
        height_bins=height_bin_names(edges),
        height_counts=[int(c) for c in height_histogram(heights, edges)],
        notes=dict(getattr(records, "notes", {})),
    )
