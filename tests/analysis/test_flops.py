"""FLOPs counter: hand-computed counts on a tiny net, meta == real forward, SCRFD vs published/recount."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from facedet.analysis.flops import count_complexity, scrfd_breakdown
from facedet.cli import main
from facedet.zoo import build_model, published

# spec scrfd.md §1.1 recount at 640x480: (mmcv-style FLOPs G, pure conv MACs G); our 34G count is
# 1.08 M (0.003 %) above it: the fork keeps a no-op 1x1 avg-pool in its stride-1 downsample
SPEC_MACS = {
    "scrfd_500m": (0.511, 0.478),
    "scrfd_500m_kps": (0.584, 0.550),
    "scrfd_1g": (0.986, 0.926),
    "scrfd_2.5g": (2.532, 2.499),
    "scrfd_2.5g_kps": (2.605, 2.571),
    "scrfd_10g": (9.985, 9.915),
    "scrfd_10g_kps": (10.076, 10.006),
    "scrfd_34g": (34.142, 33.657),
}


def test_hand_computed_tiny_net() -> None:
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), nn.GroupNorm(2, 4),
    )
    c = count_complexity(net, size=(8, 6))  # W=8, H=6
    conv1 = 48 * 4 * 27  # out positions * out channels * (3*3*3)
    bias1 = 48 * 4
    bn = 2 * 48 * 4
    relu = 48 * 4
    pool = 48 * 4  # input numel
    dw = 12 * 4 * 9  # 3x4 output, depthwise 3x3
    gn = 2 * 12 * 4
    assert c.conv_macs == conv1 + dw
    assert c.macs == conv1 + bias1 + bn + relu + pool + dw + gn
    assert c.params == sum(p.numel() for p in net.parameters()) == 4 * 27 + 4 + 8 + 36 + 8
    assert c.per_module["0"] == conv1 + bias1 and c.per_module["3"] == pool


def test_meta_equals_real_forward() -> None:
    model = build_model("scrfd_500m_kps")
    a = count_complexity(model, (128, 96), device="cpu")
    b = count_complexity(model, (128, 96))
    assert (a.macs, a.conv_macs, a.per_module) == (b.macs, b.conv_macs, b.per_module)


@pytest.mark.parametrize("name", sorted(SPEC_MACS))
def test_scrfd_matches_published_params_and_recount_macs(name: str) -> None:
    with torch.device("meta"):
        c = count_complexity(build_model(name))
    pub = published(name)
    ref_params = pub["params_recount"] if name == "scrfd_500m_kps" else pub["params_m"] * 1e6
    assert c.params == pytest.approx(ref_params, rel=0.01)
    flops_g, conv_g = SPEC_MACS[name]
    assert c.macs / 1e9 == pytest.approx(flops_g, rel=0.002)  # spec gives 3-4 significant digits
    assert c.conv_macs / 1e9 == pytest.approx(conv_g, rel=0.002)
    assert sum(scrfd_breakdown(c).values()) == c.macs


def test_shared_head_counted_per_level() -> None:
    """The shared GN head runs on 3 levels: its MACs scale with 1 + 1/4 + 1/16 of the stride-8 map."""
    c = count_complexity(build_model("scrfd_2.5g"), (640, 640))
    cls_macs = c.per_module["bbox_head.stride_cls.0"]
    positions = 80 * 80 + 40 * 40 + 20 * 20
    assert cls_macs == positions * 2 * (64 * 9) + positions * 2


def test_cli_flops_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flops", "scrfd_2.5g", "--size", "320", "256", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = count_complexity(build_model("scrfd_2.5g"), (320, 256))
    assert out == {"params": 671_761, "macs": ref.macs}


def test_cli_zoo_lists_every_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo"]) == 0
    text = capsys.readouterr().out
    # 34.143: the spec's 34.142 plus the no-op 1x1 avg-pool of 34G's first downsample (1.08 M, see resnet.py)
    assert "scrfd_34g" in text and "96.06" in text and "34.143" in text and "9.803" in text
