"""Training logs: a CSV file per run and TensorBoard when ``tensorboard`` is importable.

Rows are appended and flushed immediately so a killed run keeps its curve; on resume the CSV is
reopened in append mode and keeps its header, and the rows logged after the checkpoint being resumed
are dropped first (:meth:`CSVLogger.rewind`), so a run killed and resumed holds each step once.
Whole-file rewrites are atomic.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from facedet.atomic import write_text_atomic


def _csv_text(fields: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


class CSVLogger:
    """Appends dict rows to ``path``; the header grows when a row brings new keys."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fields: list[str] | None = None
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open() as fh:
                self._fields = next(csv.reader(fh), None)

    def log(self, row: dict[str, Any]) -> None:
        """Append ``row``; a row with new keys rewrites the file once with the widened header."""
        if self._fields is not None and any(k not in self._fields for k in row):
            with self.path.open(newline="") as fh:
                old = list(csv.DictReader(fh))
            self._fields = self._fields + [k for k in row if k not in self._fields]
            write_text_atomic(self.path, _csv_text(self._fields, old))
        new_file = self._fields is None
        fields = self._fields = list(row) if self._fields is None else self._fields
        with self.path.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            if new_file:
                writer.writeheader()
            writer.writerow(row)


    def rewind(self, step: int, key: str = "step") -> int:
        """Drop the rows whose ``key`` is above ``step`` (logged after the checkpoint a run resumes
        from); returns how many were dropped."""
        if self._fields is None or key not in self._fields:
            return 0
        with self.path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        keep = [r for r in rows if not r.get(key) or float(r[key]) <= step]
        if len(keep) < len(rows):
            write_text_atomic(self.path, _csv_text(self._fields, keep))
        return len(rows) - len(keep)


class TensorBoardLogger:
    """Scalar logging to TensorBoard; silently does nothing when ``tensorboard`` is missing."""

    def __init__(self, log_dir: str | Path) -> None:
        self.writer = None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # tensorboard not installed: skip quietly
            return
        self.writer = SummaryWriter(str(log_dir))

    def log(self, scalars: dict[str, float], step: int, prefix: str = "") -> None:
        if self.writer is None:
            return
        for key, value in scalars.items():
            if isinstance(value, int | float):
                self.writer.add_scalar(f"{prefix}{key}", value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class RunLogger:
    """``train.csv`` (per log interval), ``epochs.csv`` (per epoch, incl. evaluation) and TensorBoard."""

    def __init__(self, out_dir: str | Path, enabled: bool = True) -> None:
        self.enabled = enabled
        out = Path(out_dir)
        self.steps = CSVLogger(out / "train.csv") if enabled else None
        self.epochs = CSVLogger(out / "epochs.csv") if enabled else None
        self.tb = TensorBoardLogger(out / "tb") if enabled else None

    def log_step(self, row: dict[str, Any]) -> None:
        if self.steps is not None and self.tb is not None:
            self.steps.log(row)
            self.tb.log(row, int(row["step"]), "train/")

    def log_epoch(self, row: dict[str, Any]) -> None:
        if self.epochs is not None and self.tb is not None:
            self.epochs.log(row)
            self.tb.log(row, int(row["epoch"]), "epoch/")

    def rewind(self, step: int) -> None:
        """Forget the rows logged after global step ``step`` (see the module docstring)."""
        for logger in (self.steps, self.epochs):
            if logger is not None:
                logger.rewind(step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
