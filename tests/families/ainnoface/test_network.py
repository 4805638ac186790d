"""AInnoFace / SRN network: the published sizes, the anchor layout, max-out, and both steps in the outputs."""

from __future__ import annotations

import math

import pytest
import torch

from facedet import zoo
from facedet.analysis.flops import count_complexity
from facedet.families.ainnoface import AInnoFace, AInnoFaceConfig, build
from facedet.models.heads.srn_head import RFE, SRNHead
from facedet.priors import feat_sizes_for


@pytest.mark.parametrize("name, size, params_m, gmacs, tol", [
    ("srn_r50", (800, 800), 53.37, 394.2, 0.01),        # spec §4.1 recount (GS Table 15: 53.4 M / 394.6 G)
    ("ainnoface_r152", (640, 480), 88.0, 234.6, 0.03),  # spec §4.1, max-out channels included
])
def test_published_sizes(name: str, size: tuple[int, int], params_m: float, gmacs: float, tol: float) -> None:
    with torch.device("meta"):
        model = zoo.build_model(name)
    c = count_complexity(model, size, copy=False)
    assert abs(c.params / 1e6 / params_m - 1) < tol, c.params
    assert abs(c.conv_macs / 1e9 / gmacs - 1) < tol, c.conv_macs


def test_anchor_layout_at_1024() -> None:
    with torch.device("meta"):
        model = build(50)
    grid = model.anchors
    sizes = feat_sizes_for((1024, 1024), grid.strides)
    assert sum(grid.counts(sizes)) == 174_720  # spec §4.2
    assert grid.sizes[0] == pytest.approx((8.0, 8 * math.sqrt(2))) and grid.sizes[-1][0] == 256.0
    box = grid.boxes_np([(1, 1)] * 6)[0]  # P2's first anchor: area 8², h / w = 1.25, centred on the cell
    w, h = box[2] - box[0], box[3] - box[1]
    assert w * h == pytest.approx(64.0) and h / w == pytest.approx(1.25) and (box[0] + box[2]) / 2 == 2.0


def test_outputs_carry_both_steps_and_match_the_feature_sizes() -> None:
    torch.manual_seed(0)
    model = build(18, widths=(8, 16, 32, 64), channels=16, c7_channels=16).eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 160, 96))
    assert out.aux is not None and len(out.cls) == len(out.aux.cls) == 6
    assert out.feat_sizes == feat_sizes_for((160, 96), model.strides) == out.aux.feat_sizes
    for c, r, (h, w) in zip(out.cls, out.reg, out.feat_sizes, strict=True):
        assert c.shape == (1, h * w * 2, 1) and r.shape == (1, h * w * 2, 4)
    # the prior bias: every face probability starts near pi = 0.01 (P2's max-out moves it a little)
    p = torch.sigmoid(torch.cat(out.cls[1:], 1))
    assert float(p.mean()) == pytest.approx(0.01, rel=0.5)


def test_maxout_logit_is_the_softmax_over_max_background_and_face() -> None:
    torch.manual_seed(0)
    head = SRNHead(8, num_anchors=2, rfe=True, maxout_levels=(0,), num_bg=3)
    x = torch.randn(1, 8, 3, 4)
    z, _ = head(0, x)
    feat = head.cls_subnet(x)
    face = head.cls_pred(feat).permute(0, 2, 3, 1).reshape(-1)  # (H*W*A,)
    bg = head.bg_pred["0"](feat).reshape(1, 2, 3, 3, 4).permute(0, 3, 4, 1, 2).reshape(-1, 3)
    soft = torch.softmax(torch.stack([bg.max(dim=1).values, face], 1), 1)[:, 1]
    assert torch.allclose(torch.sigmoid(z.reshape(-1)), soft, atol=1e-6)
    z1, _ = head(1, x)  # other levels: the plain shared logit
    assert torch.allclose(z1.reshape(-1), face, atol=1e-6)


def test_rfe_is_residual_and_config_errors_are_clear() -> None:
    rfe = RFE(8)
    for m in rfe.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.zeros_(m.weight)
            torch.nn.init.zeros_(m.bias)
    x = torch.randn(1, 8, 5, 7)
    assert torch.equal(rfe(x), x)
    with pytest.raises(ValueError, match="divisible by 4"):
        RFE(6)
    with pytest.raises(ValueError, match="level indices"):
        AInnoFace(AInnoFaceConfig(depth=18, stc_levels=(0, 6)))
