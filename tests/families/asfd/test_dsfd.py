"""Released DSFD (ResNet-152): the published size, the layer layout, max-in-out, outputs and anchors."""

from __future__ import annotations

import pytest
import torch

from facedet.analysis.flops import count_built
from facedet.families.asfd.dsfd import DSFD, STRIDES, build_dsfd_r152
from facedet.priors import feat_sizes_for

RELEASED_PARAMS = 120_058_406  # face_ssd.py, ResNet-152, test graph (spec §2.2: 120.06 M; GS Table 15: 120.0 M)
FIRST_SHOT_PARAMS = 9 * 6 * (256 + 512 + 1024 + 2048 + 512 + 256) + 6 * 6  # 3x3 loc 4 + conf 2 per level


@pytest.fixture(scope="module")
def net() -> DSFD:
    torch.manual_seed(0)
    return build_dsfd_r152(aux=True).eval()


def test_released_size_at_vga() -> None:
    c = count_built(lambda: build_dsfd_r152(aux=False))  # meta device, no init: shapes only
    assert c.params == RELEASED_PARAMS
    assert abs(c.params / 120.06e6 - 1) < 0.01
    assert abs(c.conv_macs / 259.1e9 - 1) < 0.01, c.conv_macs  # spec §2.2 recount, conv MACs at 640x480
    assert abs(c.macs / 259.55e9 - 1) < 0.001, c.macs  # mmcv convention: ASFD Table 4's 259.55 B
    a = count_built(lambda: build_dsfd_r152(aux=True))
    assert a.params - c.params == FIRST_SHOT_PARAMS


def test_released_layer_shapes(net: DSFD) -> None:
    sd = net.state_dict()
    assert sd["layer5.0.bias"].shape == (512,) and sd["layer6.3.weight"].shape == (256, 128, 3, 3)
    assert sd["latlayer3.weight"].shape == (1024, 2048, 1, 1) and sd["smooth1.weight"].shape == (256, 256, 1, 1)
    assert sd["cpm.3.cpm1.weight"].shape == (256, 2048, 3, 3) and sd["cpm.0.cpm5.weight"].shape == (128, 128, 3, 3)
    assert net.cpm[0].cpm2.dilation == (2, 2) and net.cpm[0].cpm4.dilation == (2, 2)
    assert [net.loc[k].conv4.out_channels for k in range(6)] == [4, 8, 12, 12, 12, 12]
    assert [net.conf[k].conv4.out_channels for k in range(6)] == [4, 6, 8, 8, 8, 8]
    assert sd["loc.5.conv1.weight"].shape == (256, 512, 3, 3)


def _released_mio(conf: torch.Tensor, level: int) -> torch.Tensor:
    """face_ssd.py ``mio_module`` with ``mbox = 1`` (our re-statement of it)."""
    ch = torch.chunk(conf, conf.shape[1], 1)
    best = torch.max(torch.max(ch[0], ch[1]), ch[2])
    cls = torch.cat([best, ch[3]], 1) if level == 0 else torch.cat([ch[3], best], 1)
    return torch.cat([cls, *ch[4:]], 1)


def test_outputs_shapes_and_pyramid_parts(net: DSFD) -> None:
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        pyr = net.forward_pyramid(x)
        first, second = net.features(x)
    sizes = feat_sizes_for((64, 96), STRIDES)
    face = pyr.face
    assert face.feat_sizes == sizes and face.kps is None
    for c, r, (h, w) in zip(face.cls, face.reg, sizes, strict=True):
        assert c.shape == (1, h * w, 2) and r.shape == (1, h * w, 4)
    assert pyr.head.feat_sizes == sizes[1:] and pyr.body.feat_sizes == sizes[2:]
    assert [c.shape[1] for c in pyr.head.cls] == [h * w for h, w in sizes[1:]]
    assert [r.shape for r in pyr.body.reg] == [(1, h * w, 4) for h, w in sizes[2:]]
    assert [m.shape[1] for m in second] == [512] * 6
    assert [m.shape[1] for m in first] == list(net.source_channels)
    # face / head / body columns are the released max-in-out channels, in the released order
    for k in (0, 1, 2):
        with torch.no_grad():
            conf, loc = net.conf[k](second[k]), net.loc[k](second[k])
        ref = _released_mio(conf, k).permute(0, 2, 3, 1).reshape(1, -1, conf.shape[1] - 2)
        assert torch.equal(face.cls[k], ref[..., :2])
        assert torch.equal(face.reg[k], loc.permute(0, 2, 3, 1).reshape(1, -1, loc.shape[1])[..., :4])
        if k >= 1:
            assert torch.equal(pyr.head.cls[k - 1], ref[..., 2:4])
        if k >= 2:
            assert torch.equal(pyr.body.cls[k - 2], ref[..., 4:6])
            assert torch.equal(pyr.body.reg[k - 2], loc.permute(0, 2, 3, 1).reshape(1, -1, 12)[..., 8:])
    assert face.aux is not None and face.aux.feat_sizes == sizes
    for c, r, (h, w) in zip(face.aux.cls, face.aux.reg, sizes, strict=True):
        assert c.shape == (1, h * w, 2) and r.shape == (1, h * w, 4)


def test_aux_off_returns_one_shot() -> None:
    torch.manual_seed(0)
    small = DSFD(18, widths=(8, 16, 32, 64), aux=False).eval()
    assert small.aux_loc is None and small.aux_conf is None
    with torch.no_grad():
        out = small(torch.randn(2, 3, 70, 50))
    assert out.aux is None and len(out.cls) == 6
    assert out.feat_sizes == feat_sizes_for((70, 50), STRIDES)
    assert out.cls[0].shape == (2, 18 * 13, 2) and out.reg[-1].shape == (2, 1, 4)


def test_anchors_tall_and_first_shot_half_size(net: DSFD) -> None:
    sizes = [(1, 1)] * 6
    second, first = net.anchors.boxes_np(sizes), net.aux_anchors.boxes_np(sizes)
    w, h = second[:, 2] - second[:, 0], second[:, 3] - second[:, 1]
    assert h / w == pytest.approx([1.5] * 6) and (h > w).all()
    assert (w * h) ** 0.5 == pytest.approx([16, 32, 64, 128, 256, 512])
    assert (second[:, 0] + second[:, 2]) / 2 == pytest.approx([s / 2 for s in STRIDES])  # cell centres
    fw, fh = first[:, 2] - first[:, 0], first[:, 3] - first[:, 1]
    assert fw == pytest.approx(w / 2) and fh == pytest.approx(h / 2)
    assert net.head_anchors.strides == STRIDES[1:] and net.head_anchors.sizes[0] == (16.0,)
    assert net.body_anchors.strides == STRIDES[2:] and net.body_anchors.sizes[-1] == (128.0,)
    assert sum(net.anchors.counts(feat_sizes_for((480, 640), STRIDES))) == 25_600
    assert net.input_rgb is False and net.input_mean == (104.0, 117.0, 123.0) and net.coder.variances == (0.1, 0.2)
