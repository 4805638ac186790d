"""The differentiable-search parts (``facedet.search.darts``) on small synthetic modules."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from facedet.coders import DeltaCoder
from facedet.config import Config, DataConfig, TrainConfig
from facedet.data import load_dataset
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider
from facedet.data.transforms import scrfd_train_transforms
from facedet.engine.trainer import seed_everything
from facedet.models.necks.autofem import AutoFEM, Genotype
from facedet.models.necks.autofem_ops import CPM_PRIMITIVES, FPN_PRIMITIVES, make_op
from facedet.priors import AnchorGrid
from facedet.search.darts import (
    ArchParameters,
    DartsTrainer,
    GumbelOneHot,
    MixedOp,
    Supernet,
    autofem_supernet,
    channel_shuffle,
    cpm_alpha_key,
    cpm_beta_key,
    derive_genotype,
    fpn_key,
    gumbel_one_hot,
    plot_alpha_trajectory,
    read_alpha_log,
    split_held_out,
)


def _alpha_for(k: int, n: int) -> torch.Tensor:
    a = 1e-3 * torch.arange(n, dtype=torch.float32)
    a[k] = 1.0
    return a


@pytest.mark.parametrize("partial", [1, 4])
@pytest.mark.parametrize("k", range(len(FPN_PRIMITIVES)))
def test_one_hot_forward_equals_the_chosen_op_alone(partial, k):
    torch.manual_seed(k)
    mixed = MixedOp(8, FPN_PRIMITIVES, partial).eval()
    x = torch.randn(2, 8, 7, 7)
    w = gumbel_one_hot(_alpha_for(k, len(FPN_PRIMITIVES)), noise=0)
    assert w.tolist() == [float(i == k) for i in range(len(FPN_PRIMITIVES))]
    got = mixed(x, w)
    c = 8 // partial
    chosen = mixed.ops[k](x[:, :c])
    want = chosen if partial == 1 else channel_shuffle(torch.cat([chosen, x[:, c:]], 1), partial)
    assert torch.equal(got, want)
    # a fresh op of that kind with the same weights: the mixed op adds nothing around it
    alone = make_op(FPN_PRIMITIVES[k], c).eval()
    alone.load_state_dict(mixed.ops[k].state_dict())
    assert torch.equal(alone(x[:, :c]), chosen)


def test_only_the_selected_op_runs():
    calls: list[str] = []
    mixed = MixedOp(4, CPM_PRIMITIVES, partial=1)
    for name, op in zip(CPM_PRIMITIVES, mixed.ops, strict=True):
        op.register_forward_hook(lambda *_a, name=name: calls.append(name))
    mixed(torch.randn(1, 4, 5, 5), gumbel_one_hot(_alpha_for(3, len(CPM_PRIMITIVES)), noise=0))
    assert calls == [CPM_PRIMITIVES[3]]


def test_alpha_gets_a_gradient_through_the_straight_through_path():
    torch.manual_seed(0)
    n = len(FPN_PRIMITIVES)
    mixed = MixedOp(8, FPN_PRIMITIVES, partial=4).eval()
    x, r = torch.randn(2, 8, 6, 6), torch.randn(2, 8, 6, 6)
    alpha = nn.Parameter(_alpha_for(2, n))
    (mixed(x, gumbel_one_hot(alpha, noise=0)) * r).sum().backward()
    assert alpha.grad is not None and alpha.grad[2] != 0
    assert torch.count_nonzero(alpha.grad) == 1  # the diagonal surrogate: only the selected op's α moves
    # the surrogate's value: p (1 - p) n <op(x), dL/dy>, dL/dw from a plain one-hot leaf
    w = torch.zeros(n)
    w[2] = 1.0
    w.requires_grad_(True)
    (mixed(x, w) * r).sum().backward()
    assert w.grad is not None
    p = torch.softmax(alpha.detach(), -1)
    assert torch.allclose(alpha.grad, p * (1 - p) * n * w.grad)


def test_gumbel_one_hot_backward_is_lightdsfds_surrogate():
    logits = torch.tensor([0.3, -0.2, 1.1, 0.0], requires_grad=True)
    g = torch.tensor([0.5, -1.0, 2.0, 3.0])
    (GumbelOneHot.apply(logits) * g).sum().backward()
    p = torch.softmax(logits.detach(), -1)
    assert logits.grad is not None and torch.allclose(logits.grad, p * (1 - p) * g * 4)


def test_noise_is_tiny_and_reproducible():
    alpha = torch.tensor([0.0, 0.5, 0.0])
    gen = torch.Generator().manual_seed(1)
    draws = [int(gumbel_one_hot(alpha, 1e-3, gen).argmax()) for _ in range(50)]
    assert draws == [1] * 50  # 1e-3 noise cannot beat a 0.5 margin
    near = torch.zeros(3)
    picks = [int(gumbel_one_hot(near, 1e-3, torch.Generator().manual_seed(s)).argmax()) for s in range(30)]
    assert len(set(picks)) > 1  # on a tie the noise decides
    again = [int(gumbel_one_hot(near, 1e-3, torch.Generator().manual_seed(s)).argmax()) for s in range(30)]
    assert picks == again


@pytest.mark.parametrize("shape,groups", [((2, 8, 5, 3), 4), ((1, 12, 4, 4), 3), ((3, 4, 1, 1), 1)])
def test_partial_channel_shuffle_keeps_shapes(shape, groups):
    x = torch.randn(*shape)
    y = channel_shuffle(x, groups)
    assert y.shape == x.shape
    assert torch.equal(channel_shuffle(y, shape[1] // groups), x)  # a permutation of the channels
    assert sorted(y.flatten().tolist()) == sorted(x.flatten().tolist())
    for name in CPM_PRIMITIVES:
        m = MixedOp(8, (name,), partial=4)
        assert m(torch.randn(2, 8, 9, 6), torch.ones(1)).shape == (2, 8, 9, 6)
    with pytest.raises(ValueError, match="do not split"):
        MixedOp(6, FPN_PRIMITIVES, partial=4)


def test_supernet_separates_arch_from_weight_parameters():
    fem = autofem_supernet(8, levels=4, fpn_repeats=2, cpm_channels=8, cpm_nodes=3)
    net = Supernet(fem)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert {id(p) for p in arch}.isdisjoint(id(p) for p in weights)
    assert len(arch) + len(weights) == len(list(fem.parameters()))
    # 3 td + 3 du slots shared by both repeats, 4 levels x (1 + 2 + 3) CPM edges; a β per CPM node
    assert len(fem.arch.alpha) == 6 + 4 * 6 and len(fem.arch.beta) == 4 * 3
    feats = [torch.randn(2, 8, 16 // 2**i, 16 // 2**i) for i in range(4)]
    sum(o.square().mean() for o in fem(feats)).backward()
    assert all(p.grad is not None for p in arch)
    with pytest.raises(ValueError, match="exactly one ArchParameters"):
        Supernet(nn.Conv2d(1, 1, 1))


def test_derived_genotype_is_the_argmax_per_edge():
    levels, nodes = 6, 4
    fem = autofem_supernet(8, levels, cpm_channels=8, cpm_nodes=nodes)
    arch: ArchParameters = fem.arch
    nf, nc = len(FPN_PRIMITIVES), len(CPM_PRIMITIVES)
    with torch.no_grad():
        for i in range(levels):
            if i < levels - 1:
                arch.alpha[fpn_key("td", i)].copy_(_alpha_for((i + 1) % nf, nf))
            if i > 0:
                arch.alpha[fpn_key("du", i)].copy_(_alpha_for((2 * i) % nf, nf))
            for j in range(1, nodes + 1):
                for s in range(j):
                    arch.alpha[cpm_alpha_key(i, j, s)].copy_(_alpha_for((i + j + s) % nc, nc))
                # β: the two newest sources win (equal α margins, so β decides)
                arch.beta[cpm_beta_key(i, j)].copy_(torch.arange(j, dtype=torch.float32))
    g = derive_genotype(arch)
    assert [lv.td for lv in g.fpn] == [FPN_PRIMITIVES[(i + 1) % nf] for i in range(levels - 1)] + [None]
    assert [lv.du for lv in g.fpn] == [None] + [FPN_PRIMITIVES[(2 * i) % nf] for i in range(1, levels)]
    assert all(lv.same == "conv_1x1" for lv in g.fpn)
    assert g.cpm is not None
    for i, cell in enumerate(g.cpm):
        assert len(cell) == nodes
        for j, edges in enumerate(cell, start=1):
            srcs = [s for _, s in edges]
            assert srcs == ([0] if j == 1 else [j - 2, j - 1])
            assert [op for op, _ in edges] == [CPM_PRIMITIVES[(i + j + s) % nc] for s in srcs]
    assert Genotype.from_dict(g.to_dict()) == g
    AutoFEM(8, g, 1, 8)  # a fixed neck builds from it
    # α decides between sources when β is flat: a sharper α wins the edge
    with torch.no_grad():
        arch.beta[cpm_beta_key(0, 3)].zero_()
        arch.alpha[cpm_alpha_key(0, 3, 0)].copy_(_alpha_for(5, nc) * 5)
        arch.alpha[cpm_alpha_key(0, 3, 2)].copy_(_alpha_for(7, nc) * 4)
    cell0 = derive_genotype(arch).cpm[0]  # type: ignore[index]
    assert cell0[2] == ((CPM_PRIMITIVES[5], 0), (CPM_PRIMITIVES[7], 2))


def test_fpn_only_supernet_derives_a_genotype_without_cpm():
    fem = autofem_supernet(8, levels=6, cpm_nodes=0)
    assert fem.cpm is None
    g = Supernet(fem).derive_genotype()
    assert g.cpm is None and len(g.fpn) == 6


def test_split_held_out_is_every_kth():
    train, held = split_held_out(list(range(10)), 3)
    assert held == [2, 5, 8] and train == [0, 1, 3, 4, 6, 7, 9]
    with pytest.raises(ValueError):
        split_held_out([1, 2], 1)


def test_repeated_data_sets_are_split_before_they_are_repeated():
    from facedet.data.records import ImageRecord
    from facedet.search.darts import split_groups

    def rec(i: int) -> ImageRecord:
        return ImageRecord(f"img{i}.jpg", torch.tensor([[0.0, 0.0, 40.0, 40.0]]).numpy())

    a, b = [rec(i) for i in range(5)], [rec(10 + i) for i in range(4)]
    train, held = split_groups([a, b], 2, repeats=(2, 1))
    names_t, names_h = {r.path for r in train}, {r.path for r in held}
    assert not names_t & names_h  # no image on both sides of the bilevel split
    assert names_h == {"img1.jpg", "img3.jpg", "img11.jpg", "img13.jpg"} and len(train) == 2 * 3 + 2


def test_channel_shuffle_by_hand():
    x = torch.arange(8.0).view(1, 8, 1, 1)
    assert channel_shuffle(x, 4).flatten().tolist() == [0, 2, 4, 6, 1, 3, 5, 7]
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


# ---- the loop on a tiny synthetic detector ------------------------------------------------------------------


class TinySupernetDet(nn.Module):
    """Stem -> 4 pooled levels -> AutoFEM supernet -> 1x1 score per level (a detector by its attributes)."""

    family = "tiny"
    preset = None
    has_kps = False
    coder = DeltaCoder()
    input_mean, input_std, input_rgb = 127.5, 128.0, True
    anchors = AnchorGrid((8, 16, 32, 64), ((16.0,), (32.0,), (64.0,), (128.0,)))

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 8, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.fem = autofem_supernet(8, levels=4, cpm_channels=8, cpm_nodes=2)
        self.head = nn.Conv2d(8, 1, 1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f = self.stem(x)
        feats = [f] + [nn.functional.max_pool2d(f, 2**i) for i in range(1, 4)]
        return [self.head(m) for m in self.fem(feats)]


class ToyCriterion(nn.Module):
    """Pulls each level's mean score towards the number of faces (enough to make gradients)."""

    def forward(self, outputs, targets):
        n = torch.tensor([float(len(t["boxes"])) for t in targets])
        loss = sum(((o.mean((1, 2, 3)) - n) ** 2).mean() for o in outputs) / len(outputs)
        return {"loss": loss, "score": loss.detach()}


def _search(tmp_path, out: str, steps: int, resume: bool = False) -> DartsTrainer:
    """3 steps an epoch (6 training images, batches of 2), 2 epochs: the schedule spans 6 steps whatever
    ``steps`` (``train.max_steps``) stops it at."""
    data = DataConfig(input_size=64, num_workers=0, photometric=False)
    cfg = Config(data=data, train=TrainConfig(epochs=2, batch_size=2, max_steps=steps, warmup_iters=2, lr=0.02,
                                              schedule="cosine", save_interval_steps=2, log_interval=1,
                                              device="cpu", threads=1))
    records = load_dataset(tmp_path / "data", "train")
    train, held = split_held_out(records, 2)
    seed_everything(0)
    model = TinySupernetDet()
    trainer = DartsTrainer(model, ToyCriterion(), cfg, train, held, tmp_path / out, warmup=2,
                           transform=scrfd_train_transforms(data), progress=False)
    trainer.fit(resume=resume)
    return trainer


def test_search_resume_is_bit_exact_and_logs_alpha(tmp_path):
    syn = SyntheticConfig(num_images=12, image_size=(96, 96), face_sizes=(16.0, 48.0), max_faces=3,
                          empty_fraction=0.0)
    write_synthetic_wider(tmp_path / "data", "train", syn, seed=0)
    full = _search(tmp_path, "full", 6)
    _search(tmp_path, "part", 4)  # stops inside epoch 2 with a checkpoint at step 4 (α moved at steps 3, 4)
    with open(tmp_path / "part/alpha.jsonl", "a") as fh:  # as if killed after logging step 5, before its checkpoint
        fh.write('{"step": 5, "alpha": {}, "beta": {}}\n{"step": 6, "alp')  # ... and mid-way through step 6
    assert [r["step"] for r in read_alpha_log(tmp_path / "part/alpha.jsonl")][-1] == 5  # the torn line is skipped
    resumed = _search(tmp_path, "part", 6, resume=True)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    log_full, log_part = read_alpha_log(tmp_path / "full/alpha.jsonl"), read_alpha_log(tmp_path / "part/alpha.jsonl")
    assert [r["step"] for r in log_full] == list(range(7)) and log_part == log_full
    assert log_full[0]["alpha"] != log_full[-1]["alpha"]  # Adam moved α after the warm-up
    assert log_full[1]["alpha"] == log_full[0]["alpha"] == log_full[2]["alpha"]  # ... and not during it (2 steps)
    assert log_full[3]["alpha"] != log_full[2]["alpha"]  # the first step after the warm-up moves it
    opt = full.arch_optimizer
    assert [id(p) for g in opt.param_groups for p in g["params"]] == [id(p) for p in full.supernet.arch_parameters()]
    assert all(g["lr"] == 0.01 and g["weight_decay"] == 5e-4 and g["betas"] == (0.5, 0.999) for g in opt.param_groups)
    arch = full.supernet.arch
    png = plot_alpha_trajectory(tmp_path / "full/alpha.jsonl", arch.primitives, tmp_path / "fpn.png")
    png2 = plot_alpha_trajectory(tmp_path / "full/alpha.jsonl", arch.primitives, tmp_path / "cpm.png", prefix="cpm")
    assert png.stat().st_size > 0 and png2.stat().st_size > 0
    assert dataclasses.is_dataclass(full.supernet.derive_genotype())
