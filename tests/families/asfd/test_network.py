"""ASFD network: the D0–D6 ladder against the paper's Table 4, the dual shot with one shared head, the
progressive anchors, the build-time first shot and the genotype knob."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from facedet import zoo
from facedet.analysis.flops import count_built
from facedet.config import Config
from facedet.criteria.aux import AuxCriterion
from facedet.families import FAMILIES, default_config
from facedet.families.asfd import ASFD, FPN_ONLY_GENOTYPE, PUBLISHED, ASFDConfig, build

TINY = dict(backbone="resnet", depth=18, widths=(8, 16, 32, 64), channels=16, cpm_channels=8, extra_channels=(16, 32))


@pytest.mark.parametrize("name", [f"asfd_d{i}" for i in range(7)])
def test_ladder_within_five_percent_of_table4(name: str) -> None:
    c = count_built(lambda: zoo.build_model(name))
    pub = PUBLISHED[name]
    assert c.params / 1e6 == pytest.approx(pub["params_m"], rel=0.05)
    assert c.macs / 1e9 == pytest.approx(pub["flops_g"], rel=0.05)


def test_d2_without_cpm_is_dsfdv2_r18() -> None:
    """lightDSFD's DSFDv2_r18 (spec §3.7 recount 14.22 M / 20.44 GMACs): ResNet-18, 128 channels, AutoFEM-FPN."""
    c = count_built(lambda: ASFD(ASFDConfig(aux=False, genotype=FPN_ONLY_GENOTYPE, channels=128)))
    assert c.params / 1e6 == pytest.approx(14.22, rel=0.005)
    assert c.macs / 1e9 == pytest.approx(20.44, rel=0.005)


def test_dual_shot_shares_the_head_and_halves_the_first_anchors() -> None:
    torch.manual_seed(0)
    model = build("asfd_d0", **TINY).eval()
    assert model.aux is False and model(torch.randn(1, 3, 128, 128)).aux is None
    keys = set(model.state_dict())
    model.aux = True
    out = model(torch.randn(1, 3, 128, 128))
    assert out.aux is not None and set(model.state_dict()) == keys  # the first shot has no weights of its own
    assert [c.shape for c in out.aux.cls] == [c.shape for c in out.cls] == [(1, 32 * 32 // 4 ** i or 1, 2)
                                                                             for i in range(6)]
    a2 = model.anchors.boxes(out.feat_sizes)
    a1 = model.aux_anchors.boxes(out.feat_sizes)
    w2, h2 = a2[:, 2] - a2[:, 0], a2[:, 3] - a2[:, 1]
    assert torch.allclose(h2 / w2, torch.full_like(w2, 1.5))
    assert torch.allclose((a1[:, 2] - a1[:, 0]) * 2, w2)
    assert torch.allclose(a1[:, :2] + a1[:, 2:], a2[:, :2] + a2[:, 2:])  # same centres
    strides = model.anchors.strides_per_anchor(out.feat_sizes).float()
    assert torch.allclose(torch.sqrt(w2 * h2), 4 * strides)  # (4 x stride)^2 area on every level
    w1, h1 = a1[:, 2] - a1[:, 0], a1[:, 3] - a1[:, 1]
    assert torch.allclose(torch.sqrt(w1 * h1), 2 * strides) and torch.allclose(h1 / w1, torch.full_like(w1, 1.5))


def test_recipe_switches_the_first_shot_on_and_both_shots_train_the_head() -> None:
    torch.manual_seed(0)
    model = build("asfd_d0", **TINY).train()
    cfg: Config = default_config("asfd_d0")
    crit = FAMILIES["asfd"].criterion(model, cfg)
    assert isinstance(crit, AuxCriterion) and model.aux is True
    assert crit.aux.anchors == model.aux_anchors and crit.base.margin == pytest.approx(0.2 * 16.0)
    targets = [{"boxes": torch.tensor([[10.0, 12.0, 50.0, 70.0]])},
               {"boxes": torch.tensor([[60.0, 20.0, 100.0, 80.0]])}]
    out = model(torch.randn(2, 3, 128, 128))
    assert out.aux is not None
    aux_only = crit.aux(out.aux, targets)["loss"]
    aux_only.backward()
    assert model.head.reg_pred[0].weight.grad is not None  # the first shot's loss reaches the shared head
    assert all(p.grad is None for p in model.fem.parameters())  # ... and not the enhance module
    no_aux = FAMILIES["asfd"].criterion(build("asfd_d0", **TINY), replace(cfg, loss=replace(cfg.loss, aux_weight=0)))
    assert not isinstance(no_aux, AuxCriterion)


def test_neg_iou_adds_an_ignore_band_below_the_match_iou() -> None:
    model = build("asfd_d0", **TINY)
    cfg: Config = default_config("asfd_d0")
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 7.0], [0.0, 0.0, 10.0, 3.5], [50, 50, 60, 60]])
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0]])  # IoU 1.0, 0.7, 0.35, 0.0 with the anchors
    for neg_iou, want in ((0.4, [1, 1, 0, 0]), (0.3, [1, 1, -1, 0])):
        band = replace(cfg, loss=replace(cfg.loss, neg_iou=neg_iou, aux_weight=0))
        crit = FAMILIES["asfd"].criterion(model, band)
        assert crit.assigner(anchors, gt).labels.tolist() == want
    with pytest.raises(ValueError, match="neg_iou"):
        replace(cfg.loss, neg_iou=0.5)


def test_fem_and_genotype_are_settings() -> None:
    for fem in ("dsfd", "none"):
        m = build("asfd_d0", **dict(TINY, fem=fem)).eval()
        assert len(m(torch.randn(1, 3, 64, 64)).cls) == 6
    assert build("asfd_d0", **dict(TINY, genotype=FPN_ONLY_GENOTYPE)).fem.cpm is None
    with pytest.raises(ValueError, match="fem must be one of"):
        build("asfd_d0", fem="bifpn")


def test_an_architecture_file_carries_a_searched_genotype(tmp_path) -> None:
    from facedet.families.asfd import ASFD_GENOTYPE
    from facedet.models.necks.autofem import FPNLevel, Genotype

    levels = list(ASFD_GENOTYPE.fpn)
    levels[2] = FPNLevel("dil_conv_5x5", "conv_1x1")
    searched = Genotype(tuple(levels), ASFD_GENOTYPE.cpm)
    searched.to_json(tmp_path / "genotype.json")
    arch = tmp_path / "asfd_searched.yaml"
    arch.write_text(f"family: asfd\narch:\n  preset: asfd_d0\n  genotype: {tmp_path / 'genotype.json'}\n")
    model = zoo.build_model(str(arch))
    assert model.config.genotype == searched and model.config.channels == 24
    arch.write_text("family: asfd\narch:\n  preset: asfd_d9\n")
    with pytest.raises(ValueError, match=r"asfd_searched\.yaml: arch\.preset must be one of"):
        zoo.build_model(str(arch))
