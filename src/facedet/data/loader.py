"""Training data loading: a Dataset over ImageRecords, a resumable (and DDP-sharded) batch sampler,
collate, and a DataLoader factory with workers.

Indices travel as ``(epoch, index)`` pairs, and each sample's augmentation generator is seeded with
``(seed, epoch, index)``: the batch a step sees depends on neither the worker count nor the
process history, so a resumed run replays the exact same batches.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from facedet.data.records import ImageRecord
from facedet.data.transforms import Compose, Sample, normalize
from facedet.io import read_image

log = logging.getLogger(__name__)


def mix_records(groups: Sequence[Sequence[ImageRecord]], repeats: Sequence[int] = ()) -> list[ImageRecord]:
    """Concatenate several data sets, each repeated ``repeats[i]`` times (1 when not given)."""
    if repeats and len(repeats) != len(groups):
        raise ValueError(f"{len(repeats)} repeat factors for {len(groups)} data sets")
    out: list[ImageRecord] = []
    for i, group in enumerate(groups):
        out.extend(list(group) * (int(repeats[i]) if repeats else 1))
    return out


def trainable(records: Sequence[ImageRecord], min_short_side: int = 32) -> list[ImageRecord]:
    """Drop images without faces and, where the size is known, images shorter than ``min_short_side``."""
    keep = []
    for r in records:
        if len(r.boxes) == 0:
            continue
        if r.size is not None and min(r.size) < min_short_side:
            continue
        keep.append(r)
    return keep


class FaceDataset(Dataset):
    """Reads, augments and normalises one record; item keys are ``(epoch, index)`` or ``index``."""

    def __init__(
        self,
        records: Sequence[ImageRecord],
        transform: Compose,
        mean: float | Sequence[float] = 127.5,
        std: float | Sequence[float] = 128.0,
        to_rgb: bool = True,
        seed: int = 0,
    ) -> None:
        self.records = list(records)
        self.transform = transform
        self.mean, self.std, self.to_rgb = mean, std, to_rgb
        self.seed = seed
        self.unreadable: set[str] = set()  # per worker process: each warns once per bad file

    def __len__(self) -> int:
        return len(self.records)

    def _read(self, idx: int) -> tuple[int, np.ndarray]:
        """The image of record ``idx``; an unreadable one (corrupt, truncated, over the pixel limit,
        deleted since loading) is reported once and replaced by the next readable record, so one bad
        file neither stops a run nor changes the batch size, and the replacement is deterministic."""
        for k in range(len(self.records)):
            j = (idx + k) % len(self.records)
            path = self.records[j].path
            if path in self.unreadable:
                continue
            try:
                return j, read_image(path)
            except (ValueError, OSError) as exc:
                self.unreadable.add(path)
                log.warning("skipping unreadable training image (%s)", exc if path in str(exc) else f"{path}: {exc}")
        raise ValueError(f"none of the {len(self.records)} training images can be read")

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        epoch, idx = key if isinstance(key, tuple) else (0, key)
        idx, image = self._read(idx)
        rec = self.records[idx]
        rng = np.random.default_rng([self.seed, epoch, idx])
        sample = Sample(
            image,
            np.asarray(rec.boxes, np.float32).reshape(-1, 4),
            None if rec.landmarks is None else np.asarray(rec.landmarks, np.float32).reshape(-1, 5, 2),
            None if rec.landmark_valid is None else np.asarray(rec.landmark_valid, bool),
            np.asarray(rec.ignore, np.float32).reshape(-1, 4),
        )
        if sample.landmarks is not None and sample.landmark_valid is None:
            sample.landmark_valid = np.ones(len(sample.boxes), bool)
        s = self.transform(sample, rng)
        out: dict[str, Any] = {
            "image": torch.from_numpy(normalize(s.image, self.mean, self.std, self.to_rgb)),
            "boxes": torch.from_numpy(s.boxes.astype(np.float32)),
            "ignore": torch.from_numpy(np.zeros((0, 4), np.float32) if s.ignore is None else s.ignore),
        }
        if s.landmarks is not None:
            out["landmarks"] = torch.from_numpy(s.landmarks)
            valid = s.landmark_valid if s.landmark_valid is not None else np.ones(len(s.landmarks), bool)
            out["landmark_valid"] = torch.from_numpy(valid.astype(np.float32))
        return out


def collate(items: Sequence[dict[str, Any]]) -> tuple[torch.Tensor, list[dict[str, torch.Tensor]]]:
    """Stack images (all the same size after the square resize); keep targets as a list."""
    images = torch.stack([it["image"] for it in items])
    targets = [{k: v for k, v in it.items() if k != "image"} for it in items]
    return images, targets


class ResumableBatchSampler(Sampler):
    """Shuffled, DDP-sharded batches of ``(epoch, index)`` that can start mid-epoch.

    The permutation of an epoch comes from ``torch.Generator`` seeded with ``seed + epoch``; it is
    padded (wrapping around) to a multiple of ``world_size`` and rank ``r`` takes every
    ``world_size``-th entry. Incomplete last batches are dropped so every step has the same batch
    size (BN statistics of a 1-image batch are useless).
    """

    def __init__(
        self, size: int, batch_size: int, seed: int = 0, shuffle: bool = True, rank: int = 0, world_size: int = 1
    ) -> None:
        if size <= 0:
            raise ValueError("the training set is empty")
        self.size, self.batch_size, self.seed, self.shuffle = size, batch_size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.per_rank = -(-size // world_size)
        if self.per_rank < batch_size:
            raise ValueError(f"{size} training images give fewer than one batch of {batch_size} per process")
        self.epoch = 0
        self.start_batch = 0

    def batches_per_epoch(self) -> int:
        return self.per_rank // self.batch_size

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch and skip its first ``start_batch`` batches (resume)."""
        self.epoch, self.start_batch = epoch, start_batch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "start_batch": self.start_batch, "seed": self.seed}

    def _order(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        else:
            order = list(range(self.size))
        total = self.per_rank * self.world_size
        order = (order * (-(-total // self.size)))[:total]
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        order = self._order()
        for b in range(self.start_batch, self.batches_per_epoch()):
            yield [(self.epoch, i) for i in order[b * self.batch_size : (b + 1) * self.batch_size]]

    def __len__(self) -> int:
        return self.batches_per_epoch() - self.start_batch


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def make_loader(dataset: FaceDataset, sampler: ResumableBatchSampler, num_workers: int = 2) -> DataLoader:
    """DataLoader over ``dataset`` with the resumable batch sampler and single-threaded workers.

    Workers are *spawned* once and kept for the whole run. Forking them at every epoch deadlocked a
    real run: the evaluation between epochs had started OpenCV's / OpenMP's thread pools in the
    parent, and a forked child inherits their locks but not their threads. Persistent workers are
    safe here because the batch sampler runs in the main process and carries the epoch.
    """
    workers = num_workers > 0
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate,
        worker_init_fn=_worker_init if workers else None,
        pin_memory=torch.cuda.is_available(),
        persistent_workers=workers,
        multiprocessing_context="spawn" if workers else None,
    )
