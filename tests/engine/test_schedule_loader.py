"""LR schedule values and the resumable, sharded batch sampler / dataset determinism."""

from __future__ import annotations

import math

import pytest
import torch

from facedet.config import DataConfig
from facedet.data.loader import FaceDataset, ResumableBatchSampler, collate, make_loader, mix_records, trainable
from facedet.data.transforms import scrfd_train_transforms
from facedet.engine.schedule import WarmupSchedule
from tests.engine.helpers import square_records


def _opt(lr: float = 0.1) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def test_warmup_then_steps() -> None:
    opt = _opt()
    s = WarmupSchedule(opt, iters_per_epoch=10, epochs=5, kind="step", milestones=[2, 4], warmup_iters=4,
                       warmup_ratio=0.001)
    lrs = [s.get_last_lr()[0]]
    for _ in range(45):
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert math.isclose(lrs[0], 0.1 * 0.001)
    assert math.isclose(lrs[2], 0.1 * (1 - 0.999 * 0.5))  # mmdet linear warm-up, half way
    assert math.isclose(lrs[4], 0.1) and math.isclose(lrs[19], 0.1)
    assert math.isclose(lrs[20], 0.01) and math.isclose(lrs[39], 0.01) and math.isclose(lrs[40], 0.001)


def test_iteration_milestones_replace_epoch_milestones() -> None:
    s = WarmupSchedule(_opt(), iters_per_epoch=10, epochs=5, kind="step", milestones=[1], milestone_iters=[7, 12])
    lrs = [s.get_last_lr()[0]]
    for _ in range(15):
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs[6] == 0.1 and math.isclose(lrs[7], 0.01) and math.isclose(lrs[11], 0.01)
    assert math.isclose(lrs[12], 0.001) and math.isclose(lrs[15], 0.001)  # epoch milestone 1 ignored


def test_cosine_and_state_dict() -> None:
    opt = _opt()
    s = WarmupSchedule(opt, 10, 2, kind="cosine", min_lr_ratio=0.1)
    for _ in range(10):
        s.step()
    assert math.isclose(s.get_last_lr()[0], 0.1 * (0.1 + 0.9 * 0.5))  # half way: cos(pi/2) = 0
    state = s.state_dict()
    s2 = WarmupSchedule(_opt(), 10, 2, kind="cosine", min_lr_ratio=0.1)
    s2.load_state_dict(state)
    assert s2.get_last_lr() == s.get_last_lr()
    with pytest.raises(ValueError, match="schedule"):
        WarmupSchedule(_opt(), 10, 2, kind="poly")


def test_sampler_shards_and_resumes() -> None:
    full = ResumableBatchSampler(10, 2, seed=3)
    full.set_epoch(1)
    batches = list(full)
    assert len(batches) == 5 and all(e == 1 for b in batches for e, _ in b)
    assert sorted(i for b in batches for _, i in b) == list(range(10))
    full.set_epoch(1, start_batch=3)
    assert list(full) == batches[3:] and len(full) == 2
    full.set_epoch(2)
    assert list(full) != batches
    ranks = [ResumableBatchSampler(10, 2, seed=3, rank=r, world_size=2) for r in range(2)]
    for r in ranks:
        r.set_epoch(1)
    seen = [i for r in ranks for b in r for _, i in b]
    assert len(seen) == 8 and len(set(seen)) == 8  # 5 per rank -> 2 full batches each, disjoint
    with pytest.raises(ValueError, match="fewer than one batch"):
        ResumableBatchSampler(3, 4)


def test_dataset_is_a_function_of_seed_epoch_index(tmp_path) -> None:
    recs = square_records(tmp_path, n=4)
    ds = FaceDataset(recs, scrfd_train_transforms(DataConfig(input_size=64)), seed=7)
    a, b, c = ds[(0, 2)], ds[(0, 2)], ds[(1, 2)]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["boxes"], b["boxes"])
    assert not torch.equal(a["image"], c["image"])
    assert a["image"].shape == (3, 64, 64) and a["landmarks"].shape[1:] == (5, 2)
    sampler = ResumableBatchSampler(4, 2, seed=0)
    loader = make_loader(ds, sampler, num_workers=2)
    assert loader.multiprocessing_context.get_start_method() == "spawn"  # no fork after eval threads
    for epoch, start in ((0, 0), (1, 1)):  # persistent workers must follow the sampler's epoch
        sampler.set_epoch(epoch, start)
        serial = [collate([ds[k] for k in batch])[0] for batch in sampler]
        workers = [imgs for imgs, _ in loader]
        assert len(serial) == 2 - start
        assert all(torch.equal(x, y) for x, y in zip(serial, workers, strict=True))


def test_an_unreadable_training_image_is_replaced_by_the_next(tmp_path, caplog) -> None:
    """A corrupt file mid-epoch: one warning naming it, the next record in its place, same every time."""
    recs = square_records(tmp_path, n=3)
    open(recs[1].path, "wb").write(b"\xff\xd8 truncated jpeg")
    ds = FaceDataset(recs, scrfd_train_transforms(DataConfig(input_size=64)), seed=7)
    with caplog.at_level("WARNING", logger="facedet.data.loader"):
        a, b = ds[(0, 1)], ds[(0, 1)]
    assert [r.getMessage().count(recs[1].path) for r in caplog.records] == [1]  # warned once
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["image"], ds[(0, 2)]["image"])
    for r in recs:
        open(r.path, "wb").close()
    with pytest.raises(ValueError, match="none of the 3 training images"):
        FaceDataset(recs, scrfd_train_transforms(DataConfig(input_size=64)))[0]


def test_mix_and_filter(tmp_path) -> None:
    a = square_records(tmp_path / "a", n=2)
    b = square_records(tmp_path / "b", n=3)
    assert len(mix_records([a, b], [2, 1])) == 7
    with pytest.raises(ValueError, match="repeat"):
        mix_records([a, b], [1])
    empty = a[0].__class__(a[0].path, a[0].boxes[:0])
    small = a[0].__class__(a[0].path, a[0].boxes, size=(20, 100))
    assert trainable([empty, small, a[1]]) == [a[1]]
