"""SCRFD's computation-redistribution spaces: the template's size, the released configs' membership,
the generator's rounding and GN rule, the stage-2 ratio rule on a hand-made breakdown."""

from dataclasses import replace

import numpy as np
import pytest

from facedet.analysis.flops import Complexity
from facedet.families.scrfd.network import SCRFDConfig
from facedet.families.scrfd.presets import SCRFD_1G, SCRFD_2_5G, SCRFD_10G, SCRFD_34G, SCRFD_500M
from facedet.families.scrfd.search_space import (
    SCRFDGEN_2_5G_0,
    MobileStage1,
    ResNetStage1,
    Stage2,
    count,
    gn_groups_for,
    search_space,
    stage_ratios,
    violations,
)


def test_template_scrfdgen_2_5g_0_counts_2_58_gmacs_and_1_62_m_params():
    c = count(SCRFDGEN_2_5G_0)
    assert c.macs / 1e9 == pytest.approx(2.58, abs=0.005)
    assert c.params / 1e6 == pytest.approx(1.62, abs=0.005)


@pytest.mark.parametrize("cfg,gflops", [(SCRFD_2_5G, 2.5), (SCRFD_10G, 10.0), (SCRFD_34G, 34.0), (SCRFD_1G, 1.0)])
def test_released_configs_lie_in_the_stage2_space_at_their_budgets(cfg, gflops):
    """Neck / head widths and head depth in range, widths multiples of 8, MACs within 2 % of the budget.
    Each is its own stage-2 template (the stage-1 winners behind them are not published), so the ratio
    rule holds trivially here; the next test shows it failing on a changed distribution."""
    assert violations(cfg, Stage2(template=cfg), gflops) == []


def test_a_redistributed_backbone_fails_the_ratio_rule():
    deeper_first = replace(SCRFD_2_5G, stage_blocks=(6, 5, 3, 2))  # layer1 doubled: its share of the stem too
    problems = violations(deeper_first, Stage2(template=SCRFD_2_5G), 2.5)
    assert any(p.startswith("layer1/stem = ") for p in problems), problems
    assert all(not p.startswith(("layer2", "layer3", "layer4")) for p in problems)


def test_violations_name_what_is_outside():
    # SCRFD-0.5GF counts 0.511 GMACs: 2.2 % over a 0.5 budget, so a 0.5 search at +-2 % would reject it
    assert violations(SCRFD_500M, Stage2(template=SCRFD_500M), 0.5) == ["0.511 GMACs is not within 2% of 0.5"]
    wide = SCRFDConfig("resnet_basic", (3, 5, 3, 2), (24, 48, 48, 80), 136, 64, base_channels=24)
    problems = violations(wide, Stage2(template=SCRFD_2_5G), 2.5)
    assert any(p.startswith("neck 136 outside [8, 128]") for p in problems)


@pytest.mark.parametrize("width,groups", [(8, 8), (24, 8), (40, 8), (80, 16), (96, 32), (64, 64), (256, 64)])
def test_gn_rule_walks_8_16_32_64(width, groups):
    assert gn_groups_for(width) == groups


def _fake(stem: int, layers: list[int]) -> Complexity:
    per = {"backbone.stem.0.conv": stem, **{f"backbone.layer{k}.0.conv": v for k, v in enumerate(layers, start=1)}}
    return Complexity(0, sum(per.values()), 0, (640, 480), per)


def test_stage2_ratio_rule_on_a_hand_made_breakdown():
    space = Stage2(template=SCRFD_2_5G, template_ratios=(2.2, 1.0, 1.0, 1.0))
    assert stage_ratios(_fake(100, [200, 100, 100, 100])) == [2.0, 1.0, 1.0, 1.0]
    assert space.check(_fake(100, [200, 100, 100, 100])) is None  # |2.2 - 2.0| = 0.2 <= 0.1 x 2.0
    reason = space.check(_fake(100, [199, 100, 100, 100]))  # |2.2 - 1.99| = 0.21 > 0.199
    assert reason is not None and reason.startswith("layer1/stem = 1.990, template 2.200")
    assert space.check(_fake(100, [200, 100, 100, 112])) is not None  # layer4: |1.0 - 1.12| > 0.112


def test_stage1_draws_follow_the_generator_rounding():
    rng = np.random.default_rng(3)
    for space in (ResNetStage1(), MobileStage1()):
        for _ in range(50):
            d = space.sample(rng)
            planes = d.arch["stage_planes"]
            assert all(p % 8 == 0 and p >= 8 for p in planes[:1]) and all(p % 8 == 0 for p in planes)
            assert list(planes) == sorted(planes)  # every width ratio is >= 1
            assert all(1 <= b <= 10 for b in d.arch["stage_blocks"])
            assert d.arch["neck_channels"] == space.template.neck_channels  # stage 1 keeps neck and head
    d = ResNetStage1().sample(np.random.default_rng(0))
    k = d.knobs
    expect = [max(8, k["base_channels"] // 8 * 8)]
    for r in k["stage_planes_ratio"]:
        expect.append(int(expect[-1] * r) // 8 * 8)
    assert list(d.arch["stage_planes"]) == expect and d.arch["base_channels"] == expect[0]


def test_stage2_scales_the_template_and_resamples_neck_and_head():
    space = Stage2(template=SCRFD_2_5G)
    rng = np.random.default_rng(1)
    d = None
    while d is None:
        d = space.sample(rng)
    k = d.knobs
    assert list(d.arch["stage_blocks"]) == [max(1, int(np.round(b * k["stage_blocks_ratio"]))) for b in (3, 5, 3, 2)]
    assert list(d.arch["stage_planes"]) == [int(np.round(w * k["base_channels_ratio"])) // 8 * 8
                                            for w in (24, 48, 48, 80)]
    assert d.arch["neck_channels"] == k["fpn_channel"] // 8 * 8 and d.arch["stacked_convs"] == k["head_stack"]
    assert d.arch["gn_groups"] == gn_groups_for(d.arch["feat_channels"])


def test_search_space_factory_picks_and_refuses():
    assert search_space(1, "auto", None, 0.5).name == "mobilenet"
    assert search_space(1, "auto", None, 2.5).name == "resnet"
    with pytest.raises(ValueError, match="pass --template"):
        search_space(2, "resnet", None, 2.5)
    with pytest.raises(ValueError, match="not one of the resnet space"):
        search_space(1, "resnet", {**SCRFD_500M.__dict__}, 2.5)
    with pytest.raises(ValueError, match="unknown SCRFD search space"):
        search_space(1, "vgg", None, 2.5)


@pytest.mark.parametrize("space,cfg,problems", [
    (MobileStage1(), SCRFD_500M, []),
    (MobileStage1(), SCRFD_1G, []),
    (ResNetStage1(), SCRFD_2_5G, []),
    (ResNetStage1(), SCRFD_10G, []),
    (ResNetStage1(), SCRFD_34G, ["depth 17 outside [1, 10]", "depth 16 outside [1, 10]"]),  # stage 2 deepened it
    (ResNetStage1(), SCRFD_500M, ["backbone mobilenet not in ('resnet_basic', 'resnet_bottleneck')",
                                  "6 widths and 4 depths, not 4 and 4"]),
    (MobileStage1(), replace(SCRFD_500M, stage_planes=(16, 40, 40, 72, 152, 288)),
     ["width 16 -> 40 is not floor8(16 x r) for r in [1.0, 2.0]"]),
])
def test_released_backbones_are_stage1_draws(space, cfg, problems):
    """The released backbones are draws of the stage-1 spaces (the MobileNet one was read off 0.5G / 1G)."""
    assert space.backbone_problems(cfg) == problems
