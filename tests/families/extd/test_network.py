"""EXTD network: exact parameter counts, filter reuse, output layout, presets."""

from __future__ import annotations

import pytest
import torch

from facedet.families.extd import EXTD, PARAMS, PRESETS, RELEASED, build_extd
from facedet.priors import feat_sizes_for


def n_params(m: torch.nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name,expected", [("extd_fpn_32", 62_939), ("extd_fpn_48", 100_160), ("extd_fpn_64", 162_352)])
def test_released_parameter_counts_exact(name, expected):
    assert n_params(build_extd(name)) == expected == PARAMS[name]


@pytest.mark.parametrize("width,prelus,upfeat", [(32, 21, 6_880), (48, 10, 14_160), (64, 10, 24_000)])
def test_variant_parameter_counts(width, prelus, upfeat):
    fpn = n_params(build_extd(f"extd_fpn_{width}"))
    # Leaky/ReLU drop exactly the PReLU slopes (spec §1.2); SSD drops the 5 up-blocks
    assert n_params(build_extd(f"extd_fpn_{width}_leaky")) == fpn - prelus
    assert n_params(build_extd(f"extd_fpn_{width}_relu")) == fpn - prelus
    assert n_params(build_extd(f"extd_ssd_{width}")) == fpn - upfeat
    assert n_params(build_extd(f"extd_ssd_{width}_relu")) == fpn - upfeat - prelus


def test_presets_cover_all_combinations():
    assert len(PRESETS) == 18
    assert set(RELEASED) <= set(PRESETS)
    m = build_extd("extd_ssd_48_leaky")
    assert (m.neck, m.width, m.act) == ("ssd", 48, "leaky")
    assert isinstance(m.group[0].act1, torch.nn.LeakyReLU) and m.group[0].act1.negative_slope == 0.25
    with pytest.raises(ValueError, match="unknown EXTD preset"):
        build_extd("extd_fpn_16")


def test_shared_group_is_applied_once_per_level():
    m = build_extd("extd_fpn_32").eval()
    calls = []
    m.group[-1].register_forward_hook(lambda mod, i, o: calls.append(tuple(o.shape[-2:])))
    with torch.no_grad():
        out = m(torch.zeros(1, 3, 256, 192))
    # six passes, each halving the resolution: strides 4..128 of a 256x192 input (ceil division)
    assert calls == [(64, 48), (32, 24), (16, 12), (8, 6), (4, 3), (2, 2)]
    assert out.feat_sizes == calls == feat_sizes_for((256, 192), m.strides)


def test_head_outputs_layout_and_maxout():
    m = build_extd("extd_fpn_48").eval()
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        out = m(x)
        raw = m.conf[0](m.features(x)[0])
    assert out.kps is None and m.has_kps is False and m.family == "extd"
    assert [tuple(c.shape) for c in out.cls] == [(2, h * w, 2) for h, w in out.feat_sizes]
    assert [tuple(r.shape) for r in out.reg] == [(2, h * w, 4) for h, w in out.feat_sizes]
    # level 0: background = max of the three background maps (S3FD max-out), rows y-major then x
    h, w = out.feat_sizes[0]
    y, xx = 3, 5
    row = y * w + xx
    assert torch.allclose(out.cls[0][1, row, 0], raw[1, :3, y, xx].max())
    assert torch.allclose(out.cls[0][1, row, 1], raw[1, 3, y, xx])


def test_anchor_count_at_640():
    m = build_extd("extd_fpn_64")
    assert m.anchors.sizes == ((16,), (32,), (64,), (128,), (256,), (512,)) and m.strides == (4, 8, 16, 32, 64, 128)
    assert m.anchors.offsets == (0.5,) * 6 and m.anchors.ratios == (1.0,)
    assert sum(h * w for h, w in feat_sizes_for((640, 640), m.strides)) == 34_125
    assert sum(h * w for h, w in feat_sizes_for((480, 640), m.strides)) == 25_600


def test_bad_configuration_errors():
    with pytest.raises(ValueError, match="neck"):
        EXTD(width=32, neck="bifpn")
    with pytest.raises(ValueError, match="stride-2"):
        build_extd("extd_fpn_32", group=((2, 2), (2, 1)))


def test_onnx_export_dynamic_shapes_match_torch(tmp_path):
    """The eval benchmark runs the ONNX export under ONNX Runtime; it must equal eager PyTorch at
    sizes other than the export size (the FPN up-sampling follows the lateral's size)."""
    import numpy as np
    import onnxruntime as ort

    torch.manual_seed(0)
    model = build_extd("extd_fpn_32").eval()
    for m in model.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)

    class Flat(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, x):
            o = self.m(x)
            return (*o.cls, *o.reg)

    path = tmp_path / "extd.onnx"
    torch.onnx.export(Flat().eval(), torch.zeros(1, 3, 64, 64), str(path), input_names=["x"],
                      dynamic_axes={"x": {2: "h", 3: "w"}}, opset_version=17, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    x = torch.randn(1, 3, 100, 150) * 50
    outs = sess.run(None, {"x": x.numpy()})
    with torch.no_grad():
        ref = model(x)
    for got, want in zip(outs, [*ref.cls, *ref.reg], strict=True):
        assert np.allclose(got, want.numpy(), atol=1e-3, rtol=1e-3)

