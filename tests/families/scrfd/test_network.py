"""SCRFD presets: exact parameter counts (spec §8 recount), output layout, init, module names."""

from __future__ import annotations

import pytest
import torch

from facedet.families.scrfd.presets import PRESETS
from facedet.models.heads.scrfd_head import CLS_BIAS_INIT, SCRFDHead
from facedet.models.outputs import HeadOutputs

# spec scrfd.md §8: (total, backbone, neck, head) trainable parameters
SPEC_PARAMS = {
    "scrfd_500m": (572_741, 536_232, 24_480, 12_029),
    "scrfd_500m_kps": (631_410, 536_232, 24_480, 70_698),
    "scrfd_1g": (635_565, 560_648, 53_040, 21_877),
    "scrfd_2.5g": (671_761, 574_292, 40_752, 56_717),
    "scrfd_2.5g_kps": (819_809, 574_292, 40_752, 204_765),
    "scrfd_10g": (3_860_225, 3_476_484, 220_528, 163_213),
    "scrfd_10g_kps": (4_229_905, 3_476_484, 220_528, 532_893),
    "scrfd_34g": (9_802_737, 7_663_844, 1_230_080, 908_813),
}


def _count(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", sorted(SPEC_PARAMS))
def test_param_counts_match_spec_recount(name: str) -> None:
    with torch.device("meta"):  # shapes only: no weight init cost
        model = PRESETS[name]()
    got = (_count(model), _count(model.backbone), _count(model.neck), _count(model.bbox_head))
    assert got == SPEC_PARAMS[name]


@pytest.mark.parametrize("name", ["scrfd_500m", "scrfd_2.5g_kps"])
def test_forward_shapes_and_attributes(name: str) -> None:
    torch.manual_seed(0)
    model = PRESETS[name]().eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 96, 128))
    assert isinstance(out, HeadOutputs)
    assert out.feat_sizes == [(12, 16), (6, 8), (3, 4)]
    for (h, w), c, r in zip(out.feat_sizes, out.cls, out.reg, strict=True):
        assert c.shape == (2, h * w * 2, 1) and r.shape == (2, h * w * 2, 4)
    assert model.has_kps == (out.kps is not None) == name.endswith("_kps")
    if out.kps is not None:
        assert [k.shape[-1] for k in out.kps] == [10, 10, 10]
    assert model.strides == (8, 16, 32) and model.num_anchors == 2 and model.family == "scrfd"
    assert (model.input_mean, model.input_std, model.input_rgb) == (127.5, 128.0, True)


def test_head_row_layout_is_location_major_then_anchor() -> None:
    """Row (y*W + x)*A + a of reg holds channels a*4 .. a*4+3 of the reg conv at (y, x)."""
    head = SCRFDHead(8, 8, stacked_convs=1, norm="gn", gn_groups=4, use_kps=True).eval()
    x = torch.randn(1, 8, 3, 5)
    feat = head.cls_stride_convs["0"][0](x)
    raw_reg = head.stride_reg["0"](feat) * head.scales[1].scale
    raw_kps = head.stride_kps["0"](feat)
    _, reg, kps = head.forward_level(x, 1)
    y, xx, a = 2, 3, 1
    row = (y * 5 + xx) * 2 + a
    torch.testing.assert_close(reg[0, row], raw_reg[0, a * 4 : a * 4 + 4, y, xx])
    torch.testing.assert_close(kps[0, row], raw_kps[0, a * 10 : a * 10 + 10, y, xx])


def test_scale_multiplies_reg_only() -> None:
    head = SCRFDHead(8, 8, stacked_convs=1, norm="bn", shared=False, use_kps=True).eval()
    x = torch.randn(1, 8, 4, 4)
    c0, r0, k0 = head.forward_level(x, 2)
    with torch.no_grad():
        head.scales[2].scale.fill_(3.0)
    c1, r1, k1 = head.forward_level(x, 2)
    torch.testing.assert_close(r1, 3 * r0)
    torch.testing.assert_close(c1, c0)
    torch.testing.assert_close(k1, k0)


def test_init_and_state_dict_names() -> None:
    model = PRESETS["scrfd_2.5g"]()
    sd = model.state_dict()
    assert torch.all(model.bbox_head.stride_cls["0"].bias == CLS_BIAS_INIT)
    assert model.bbox_head.scales[0].scale.item() == 1.0
    # zero-init residual: last BN gamma of every block is 0
    assert torch.all(model.backbone.layer2[0].bn2.weight == 0)
    for key in (
        "backbone.stem.0.weight", "backbone.layer2.0.downsample.1.weight", "neck.lateral_convs.0.conv.bias",
        "neck.pafpn_convs.1.conv.weight", "bbox_head.cls_stride_convs.0.0.gn.weight", "bbox_head.scales.2.scale",
    ):
        assert key in sd, key
    big = PRESETS["scrfd_34g"]().backbone.layer1[0].downsample  # stride 1, 56 -> 224: no-op pool kept
    assert isinstance(big[0], torch.nn.AvgPool2d) and big[0].kernel_size == 1 and big[1].out_channels == 224
    kps = PRESETS["scrfd_500m_kps"]().state_dict()
    assert "bbox_head.cls_stride_convs.(16, 16).1.pointwise_conv.bn.running_mean" in kps
    assert "bbox_head.stride_kps.(32, 32).weight" in kps and not any(k.startswith("bbox_head.scales") for k in kps)
    assert "backbone.stem.1.3.weight" in kps  # MobileNet conv_dw pointwise conv


def test_bad_input_shape_raises() -> None:
    with pytest.raises(ValueError, match="B, 3, H, W"):
        PRESETS["scrfd_500m"]()(torch.randn(3, 64, 64))
