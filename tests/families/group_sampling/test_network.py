"""ResNet (torchvision layout), FPN, RPN heads, the Group Sampling variants, and params / MACs vs the paper."""

from __future__ import annotations

import pytest
import torch

from facedet.analysis.flops import count_complexity
from facedet.families.group_sampling import PRESETS, VARIANTS, build
from facedet.models.backbones.resnet_classic import ResNet, load_torchvision_checkpoint
from facedet.models.heads.rpn_head import DilatedRPNHead, RPNHead
from facedet.models.necks.fpn import FPN

TINY = {"widths": (8, 16, 32, 64), "neck_channels": 16, "head_channels": 16}


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


@pytest.mark.parametrize(("depth", "params"), [(18, 11_689_512), (50, 25_557_032)])
def test_resnet_matches_torchvision_param_counts(depth: int, params: int):
    model = ResNet(depth, with_fc=True).to("meta")
    assert sum(p.numel() for p in model.parameters()) == params  # torchvision resnet18 / resnet50
    names = set(model.state_dict())
    for key in ("conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                "layer2.0.downsample.1.running_mean", "layer4.1.bn2.weight", "fc.weight", "fc.bias"):
        assert key in names


def test_resnet_outputs_and_checkpoint_loading(tmp_path):
    full = ResNet(18, widths=(8, 16, 32, 64), with_fc=True, num_classes=5)
    path = tmp_path / "resnet.pth"
    torch.save(full.state_dict(), path)
    trunk = ResNet(18, widths=(8, 16, 32, 64)).eval()
    skipped = load_torchvision_checkpoint(trunk, path)
    assert sorted(skipped) == ["fc.bias", "fc.weight"]
    x = torch.randn(1, 3, 64, 48)
    outs = trunk(x)
    assert [tuple(o.shape) for o in outs] == [(1, 8, 16, 12), (1, 16, 8, 6), (1, 32, 4, 3), (1, 64, 2, 2)]
    assert torch.allclose(outs[-1], full.eval()(x)[-1])
    state = full.state_dict()
    state["layer1.0.conv9.weight"] = state.pop("layer1.0.conv1.weight")
    torch.save(state, path)
    with pytest.raises(ValueError, match="missing.*layer1.0.conv1.weight"):
        load_torchvision_checkpoint(ResNet(18, widths=(8, 16, 32, 64)), path)
    with pytest.raises(ValueError):
        ResNet(19)


def test_resnet_freeze_bn_keeps_running_stats():
    m = ResNet(18, widths=(8, 16, 32, 64), freeze_bn=True).train()
    before = m.bn1.running_mean.clone()
    m(torch.randn(2, 3, 32, 32))
    assert torch.equal(before, m.bn1.running_mean) and not m.bn1.training


def test_fpn_top_down_sum():
    fpn = FPN([2, 3, 4], out_channels=2, levels=(2, 3, 4))
    with torch.no_grad():
        for conv in fpn.lateral_convs:  # identity-like laterals: take the first 2 channels
            conv.weight.zero_()
            conv.weight[0, 0] = 1.0
            conv.weight[1, 1] = 1.0
    c2, c3, c4 = torch.ones(1, 2, 8, 8), torch.ones(1, 3, 4, 4) * 2, torch.ones(1, 4, 2, 2) * 3
    p2, p3, p4 = fpn([c2, c3, c4])
    assert torch.allclose(p4, torch.full_like(p4, 3.0))
    assert torch.allclose(p3, torch.full_like(p3, 5.0))  # 2 + up(3)
    assert torch.allclose(p2, torch.full_like(p2, 6.0))  # 1 + up(5)
    only3 = FPN([2, 3, 4], 2, levels=(3,))
    assert len(only3.lateral_convs) == 2 and only3([c2, c3, c4])[0].shape == (1, 2, 4, 4)
    with pytest.raises(ValueError):
        FPN([2, 3], levels=(4,))


def test_rpn_heads_layout():
    head = RPNHead(4, num_anchors=3, feat_channels=8)
    cls, reg = head([torch.randn(2, 4, 5, 6)])
    assert cls[0].shape == (2, 5 * 6 * 3, 2) and reg[0].shape == (2, 5 * 6 * 3, 4)
    (cmap, _), = head.forward_maps([torch.randn(1, 4, 5, 6)])
    # row (y, x, a) = channel a*2 + c at (y, x)
    flat = head([torch.randn(1, 4, 5, 6)])[0][0]
    assert flat.shape[1] == 90 and cmap.shape == (1, 6, 5, 6)
    x = torch.randn(1, 4, 5, 6)
    (cmap, _), = head.forward_maps([x])
    rows = head([x])[0][0]
    assert torch.allclose(rows[0, (2 * 6 + 3) * 3 + 1], cmap[0, 2:4, 2, 3])
    dc = DilatedRPNHead(4, (1, 2, 4, 8), feat_channels=8)
    assert [c.dilation for c in dc.convs] == [(1, 1), (2, 2), (4, 4), (8, 8)]
    cls, reg = dc([torch.randn(1, 4, 7, 7)])
    assert cls[0].shape == (1, 49 * 4, 2) and reg[0].shape == (1, 49 * 4, 4)
    shared = RPNHead(4, 1, 8, num_levels=3, share_conv=False)
    assert len(shared.convs) == 3


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_forward_shapes_match_priors(variant: str):
    extra = {"anchor_strides": (4, 8, 8, 16)} if variant == "fpn_single" else {}
    model = build(variant, 18, level=2, **TINY, **extra).eval()
    out = model(torch.randn(1, 3, 64, 96))
    anchors, sizes = model.anchors.boxes(out.feat_sizes), model.anchors.anchor_sizes(out.feat_sizes)
    rows = sum(c.shape[1] for c in out.cls)
    assert rows == anchors.shape[0] == sizes.shape[0]
    assert all(c.shape[-1] == 2 for c in out.cls) and all(r.shape[-1] == 4 for r in out.reg)
    expected_rows = {
        "fpn": 16 * 24 + 8 * 12 + 4 * 6 + 2 * 3,
        "fpn_finest": 16 * 24 * 4,
        "fpn_finest_dc": 16 * 24 * 4,
        "fpn_finest_stride": 16 * 24 + 8 * 12 + 4 * 6 + 2 * 3,
        "fpn_single": 16 * 24 + 8 * 12 * 2 + 4 * 6,
    }
    assert rows == expected_rows[variant]
    assert sorted(sizes.unique().tolist()) == [16.0, 32.0, 64.0, 128.0]


def test_strided_variant_subsamples_the_finest_maps():
    model = build("fpn_finest_stride", 18, level=2, **TINY).eval()
    x = torch.randn(1, 3, 64, 96)
    feats = model.features(x)
    (cmap, rmap), = model.head.forward_maps(feats)
    out = model.head_outputs(feats)
    assert model.strides == (4, 8, 16, 32) and model.anchors.offsets == (0.5, 0.25, 0.125, 0.0625)
    # level 2 (anchor 64, stride 16): row (y, x) = anchor 2's channels of the P2 map at (4y, 4x)
    assert torch.allclose(out.cls[2][0, 1 * 6 + 2], cmap[0, 4:6, 4, 8])
    assert torch.allclose(out.reg[3][0, 1 * 3 + 1], rmap[0, 12:16, 8, 8])
    # the anchor of that row is centred on the P2 cell it reads: ((8 + 0.5) * 4, (4 + 0.5) * 4)
    anchors = model.anchors.boxes(out.feat_sizes)
    start = 16 * 24 + 8 * 12
    a = anchors[start + 1 * 6 + 2]
    assert torch.allclose((a[:2] + a[2:]) / 2, torch.tensor([34.0, 18.0])) and float(a[2] - a[0]) == 64.0


def test_presets_names_and_bad_config():
    assert {"gs_fpn_finest_r18", "gs_fpn_finest_dc_r50", "gs_fpn_r152", "gs_fpn_single_r50"} <= set(PRESETS)
    with pytest.raises(ValueError):
        build("fpn_single", 18, anchor_strides=(4, 6, 8, 8), **TINY)
    with pytest.raises(ValueError):
        build("nope", 18, **TINY)


def test_mobilenet_backbone_takes_scrfd_backbone_weights():
    """The MobileNet option: SCRFD-500M's backbone keys load strictly, strides 4..32 feed the FPN, and
    the input normalisation follows the backbone (SCRFD's 127.5 / 128)."""
    from facedet.families.scrfd.presets import scrfd_500m

    src = scrfd_500m()
    m = build("fpn_finest", 18, level=2, backbone="mobilenet", neck_channels=16, head_channels=16)
    state = {k[len("backbone."):]: v for k, v in src.state_dict().items() if k.startswith("backbone.")}
    m.backbone.load_state_dict(state, strict=True)
    assert m.input_mean == (127.5,) * 3 and m.input_std == (128.0,) * 3
    assert build("fpn_finest", 18, **TINY).input_mean == (123.675, 116.28, 103.53)
    out = m(torch.zeros(1, 3, 64, 64))
    assert out.feat_sizes == [(16, 16)] and out.cls[0].shape == (1, 16 * 16 * 4, 2)
    with pytest.raises(ValueError, match="backbone"):
        build("fpn_finest", 18, backbone="vgg", **TINY)


# Table 15 (R18 / R50 / R152, 800x800; thop GFLOPs = MACs) and Table 11 (R50 FPN: 88.92)
@pytest.mark.parametrize(("name", "gmacs", "mparams", "fc"), [
    ("gs_fpn_finest_r18", 29.8, 12.5, 512 * 1000 + 1000),
    ("gs_fpn_finest_r50", 81.3, 27.1, 2048 * 1000 + 1000),
    ("gs_fpn_finest_r152", 155.7, 61.7, 2048 * 1000 + 1000),
    ("gs_fpn_r50", 88.92, None, 2048 * 1000 + 1000),
])
def test_complexity_matches_paper(name: str, gmacs: float, mparams: float | None, fc: int):
    with torch.device("meta"):
        model = PRESETS[name]()
        with_fc = PRESETS[name](with_fc=True)
    c = count_complexity(model, (800, 800))
    assert abs(c.macs / 1e9 - gmacs) / gmacs < 0.01
    p_fc = sum(p.numel() for p in with_fc.parameters())
    assert p_fc - c.params == fc  # the paper's counts include torchvision's unused ImageNet classifier
    if mparams is not None:
        assert abs(p_fc / 1e6 - mparams) / mparams < 0.01


def test_zoo_registration():
    from facedet import zoo
    from facedet.families import family_of

    assert family_of("gs_fpn_finest_dc_r50").name == "group_sampling"
    assert "gs_fpn_finest_dc_r50" in zoo.list_models()
    assert zoo.published("gs_fpn_finest_r50")["all"] == 82.8
    model = zoo.build_model("gs_fpn_finest_r18", **TINY)
    assert model.level_stride == 8 and model.strides == (8,)  # R18 detects on P3 (Table 15 note)
