"""Samplers on hand-made labels: quotas, group balance, WRS / OHEM ordering, seeded reproducibility."""

from __future__ import annotations

import math

import pytest
import torch

from facedet.samplers.group import GroupSampler
from facedet.samplers.ohem import OHEMSampler, select_hardest
from facedet.samplers.random import AllSampler, RandomSampler, quotas, select_random
from facedet.samplers.wrs import WRSSampler, select_weighted, wrs_keys


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def labels_of(n_pos: int, n_neg: int, n_ign: int = 0) -> torch.Tensor:
    return torch.cat([torch.ones(n_pos), torch.zeros(n_neg), -torch.ones(n_ign)]).long()


def test_quotas():
    assert quotas(10, 16, 0.25, True) == (4, 12)
    assert quotas(2, 16, 0.25, True) == (2, 14)  # negatives fill the shortage
    assert quotas(2, 16, 0.25, False) == (2, 6)  # strict 1:3
    assert quotas(0, 8, 0.25, True) == (0, 8)


def test_random_sampler_counts_and_ignores():
    labels = labels_of(10, 100, 50)
    pos, neg = RandomSampler(16).sample(labels, generator=gen())
    assert len(pos) == 4 and len(neg) == 12
    assert (labels[pos] == 1).all() and (labels[neg] == 0).all()
    assert len(set(pos.tolist())) == 4 and len(set(neg.tolist())) == 12
    pos, neg = RandomSampler(16).sample(labels_of(2, 100, 5), generator=gen())
    assert len(pos) == 2 and len(neg) == 14
    pos, neg = RandomSampler(16).sample(labels_of(1, 3, 40), generator=gen())  # too few anchors: all usable ones
    assert pos.tolist() == [0] and neg.tolist() == [1, 2, 3]


def test_random_sampler_is_seeded_and_uniform():
    labels = labels_of(0, 10)
    a = RandomSampler(4, fill_negatives=True).sample(labels, generator=gen(3))[1]
    b = RandomSampler(4, fill_negatives=True).sample(labels, generator=gen(3))[1]
    assert torch.equal(a, b)
    g = gen(1)
    counts = torch.zeros(10)
    mask = torch.ones(10, dtype=torch.bool)
    for _ in range(2000):
        counts[select_random(mask, 3, g)] += 1
    freq = counts / 2000  # each kept with probability 3/10
    assert torch.allclose(freq, torch.full((10,), 0.3), atol=0.04)


def test_all_sampler():
    labels = torch.tensor([1, 0, -1, 0, 1])
    pos, neg = AllSampler().sample(labels)
    assert pos.tolist() == [0, 4] and neg.tolist() == [1, 3]


def test_group_sampler_balances_groups():
    # group 0: 1 pos 50 neg; group 1: 10 pos 50 neg; group 2: 0 pos 3 neg; group 3: 5 pos 20 neg 7 ignored
    parts = [(0, 1, 50, 0), (1, 10, 50, 0), (2, 0, 3, 0), (3, 5, 20, 7)]
    labels = torch.cat([labels_of(p, n, i) for _, p, n, i in parts])
    groups = torch.cat([torch.full((p + n + i,), g) for g, p, n, i in parts]).long()
    pos, neg = GroupSampler(num=8).sample(labels, generator=gen(), groups=groups)
    pos_per = torch.bincount(groups[pos], minlength=4).tolist()
    neg_per = torch.bincount(groups[neg], minlength=4).tolist()
    assert pos_per == [1, 2, 0, 2]
    assert neg_per == [7, 6, 3, 6]
    assert (labels[pos] == 1).all() and (labels[neg] == 0).all()
    with pytest.raises(ValueError):
        GroupSampler().sample(labels, generator=gen())
    with pytest.raises(ValueError):
        GroupSampler(mode="bogus")


def test_group_sampler_modes_use_the_loss():
    labels = labels_of(0, 8)
    groups = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    loss = torch.tensor([0.1, 5.0, 0.2, 4.0, 3.0, 0.0, 0.0, 0.0])
    _, neg = GroupSampler(num=2, mode="ohem", num_groups=2).sample(labels, loss=loss, groups=groups)
    assert neg.tolist() == [1, 3, 4, 5]  # top-2 per group; ties in group 1 -> lowest index
    _, neg = GroupSampler(num=1, mode="wrs", num_groups=2).sample(labels, generator=gen(), loss=loss, groups=groups)
    assert neg.tolist()[1] == 4  # zero-loss anchors have key log(r)/1e-6: never beat a positive loss
    with pytest.raises(ValueError):
        GroupSampler(mode="wrs").sample(labels, groups=torch.zeros(8, dtype=torch.long))


def test_wrs_keys_formula_and_probability():
    loss = torch.tensor([0.5, 2.0, 0.0])
    keys = wrs_keys(loss, gen(7))
    r = torch.rand(3, generator=gen(7), dtype=torch.float64)
    expected = torch.log(r) / (loss.double() + 1e-6)
    assert torch.allclose(keys, expected)
    # w = r^(1/(l+eps)) ordering == keys ordering
    w = r ** (1 / (loss.double() + 1e-6))
    assert torch.equal(torch.argsort(w), torch.argsort(keys))
    # k = 1 picks index i with probability l_i / sum(l) (Efraimidis-Spirakis)
    losses = torch.tensor([1.0, 3.0]).expand(4000, 2)
    picked = wrs_keys(losses.reshape(-1), gen(0)).reshape(4000, 2).argmax(1)
    assert abs(picked.float().mean().item() - 0.75) < 0.03


def test_wrs_sampler_quota_and_order():
    labels = labels_of(3, 6)
    loss = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 3.0])
    pos, neg = WRSSampler(num=4).sample(labels, generator=gen(), loss=loss)
    assert len(pos) == 1 and len(neg) == 3
    assert {7, 8} <= set(neg.tolist())  # the two non-zero-loss negatives always beat zero-loss ones
    assert select_weighted(torch.zeros(4, dtype=torch.bool), 2, torch.ones(4)).numel() == 0


def test_ohem():
    labels = torch.tensor([1, 0, 0, 1, -1, 0])
    loss = torch.tensor([0.5, 2.0, 0.1, 3.0, 9.0, 1.0])
    pos, neg = OHEMSampler(num=3).sample(labels, loss=loss)
    assert pos.tolist() == [3] and neg.tolist() == [1, 5]  # ignored anchor 4 never taken
    pos, neg = OHEMSampler(num=4, pos_fraction=0.25).sample(labels, loss=loss)
    assert pos.tolist() == [3] and neg.tolist() == [1, 2, 5]
    assert select_hardest(torch.tensor([True, True, False]), 1, torch.tensor([1.0, 1.0, 5.0])).tolist() == [0]
    assert math.isclose(float(loss[select_hardest(labels >= 0, 1, loss)]), 3.0)
