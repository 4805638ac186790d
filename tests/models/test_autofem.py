"""AutoFEM: the candidate ops, the genotype as data, the FPN cell's wiring and the CPM cell's leaves,
checked against hand computations (identity ops make every path visible)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from facedet.families.asfd.genotypes import ASFD_GENOTYPE, FPN_ONLY_GENOTYPE, HAND_CPM
from facedet.models.necks.autofem import AutoFEM, AutoFEMFPNCell, CPMCell, FPNLevel, Genotype, leaf_nodes
from facedet.models.necks.autofem_ops import CPM_PRIMITIVES, FPN_PRIMITIVES, OPS, make_op


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_keeps_shape(name: str) -> None:
    x = torch.randn(2, 8, 9, 7)
    assert make_op(name, 8)(x).shape == x.shape


def test_separable_op_is_relu_depthwise_pointwise_bn() -> None:
    op = make_op("sep_conv_3x3", 16)
    kinds = [type(m).__name__ for m in op]
    assert kinds == ["ReLU", "Conv2d", "Conv2d", "BatchNorm2d"]
    assert op[1].groups == 16 and op[1].bias is None and op[2].kernel_size == (1, 1)
    assert sum(p.numel() for p in op.parameters()) == 9 * 16 + 16 * 16 + 2 * 16
    assert make_op("dil_conv_3x3_3", 4)[1].dilation == (3, 3)
    with pytest.raises(ValueError, match="unknown AutoFEM op 'conv_9x9'"):
        make_op("conv_9x9", 4)


def test_shipped_genotype_is_lightdsfd_inter_layer() -> None:
    fpn = FPN_ONLY_GENOTYPE.fpn
    assert [lv.paths() for lv in fpn] == [("td", "same")] + [("td", "du", "same")] * 4 + [("du", "same")]
    assert all(op in (None, "sep_conv_3x3") for lv in fpn for op in (lv.td, lv.du)) and {lv.same for lv in fpn} == {
        "conv_1x1"}
    assert sum(len(lv.paths()) for lv in fpn) == 16  # lightDSFD's 16 fusion weights
    assert all(leaf_nodes(cell) == [5, 6] for cell in HAND_CPM)


def test_genotype_json_round_trip_and_clear_errors(tmp_path) -> None:
    path = tmp_path / "g.json"
    ASFD_GENOTYPE.to_json(path)
    assert Genotype.from_json(path) == ASFD_GENOTYPE
    d = json.loads(path.read_text())
    assert d["fpn"][0] == {"td": "sep_conv_3x3", "same": "conv_1x1"} and d["cpm"][0][1] == [["dil_conv_3x3_3", 1],
                                                                                              ["skip_connect", 0]]
    bad = dict(d, cpm=[[[["sep_conv_3x3", 3]]]] * 6)
    path.write_text(json.dumps(bad))
    with pytest.raises(ValueError, match=r"g\.json: genotype cpm level 0 node 1: source 3 must be an earlier node"):
        Genotype.from_json(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"g\.json: not a genotype JSON file"):
        Genotype.from_json(path)
    with pytest.raises(ValueError, match="td is absent on the last level only"):
        Genotype((FPNLevel("sep_conv_3x3", None), FPNLevel("sep_conv_3x3", "sep_conv_3x3")))
    with pytest.raises(ValueError, match="'max_pool_3x3' is not an FPN op"):
        Genotype((FPNLevel("max_pool_3x3", None), FPNLevel(None, "sep_conv_3x3")))
    assert set(FPN_PRIMITIVES) < set(OPS) and set(CPM_PRIMITIVES) <= set(OPS)


class _Times(nn.Module):
    def __init__(self, k: float) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.k * x


FACTORS = {"sep_conv_3x3": 2.0, "dil_conv_3x3": 3.0, "conv_1x1": 5.0}  # td, du, same: each path visible


def test_fpn_cell_wiring_by_hand() -> None:
    torch.manual_seed(0)
    levels = (FPNLevel("sep_conv_3x3", None), FPNLevel("sep_conv_3x3", "dil_conv_3x3"), FPNLevel(None, "dil_conv_3x3"))
    cell = AutoFEMFPNCell(2, levels, op=lambda name, c: _Times(FACTORS[name]))
    for conv in cell.out:  # 1x1 outputs as the identity: out_i is the fused sum itself
        nn.init.eye_(conv.weight.view(2, 2))
        nn.init.zeros_(conv.bias)
    logits = [torch.tensor([0.3, -0.2]), torch.tensor([0.5, -1.0, 0.1]), torch.tensor([-0.4, 0.7])]
    for w, v in zip(cell.fuse_weights, logits, strict=True):
        w.data.copy_(v)
    f = [torch.rand(1, 2, 8, 6) + 0.5, torch.rand(1, 2, 4, 3) + 0.5, torch.rand(1, 2, 2, 2) + 0.5]
    out = cell(f)

    def up(t, ref):
        return F.interpolate(t, size=ref.shape[-2:], mode="bilinear", align_corners=True)

    td2 = f[2]  # the coarsest top-down map is the input itself (no op)
    td1 = 2 * (up(td2, f[1]) * f[1])
    td0 = 2 * (up(td1, f[0]) * f[0])
    du0 = f[0]  # the finest bottom-up map is the input itself
    du1 = 3 * (F.max_pool2d(du0, 3, 2, 1) * f[1])
    du2 = 3 * (F.max_pool2d(du1, 3, 2, 1) * f[2])
    w = [torch.softmax(v, 0) for v in logits]
    assert torch.allclose(out[0], w[0][0] * td0 + w[0][1] * 5 * f[0], atol=1e-5)
    assert torch.allclose(out[1], w[1][0] * td1 + w[1][1] * du1 + w[1][2] * 5 * f[1], atol=1e-5)
    assert torch.allclose(out[2], w[2][0] * du2 + w[2][1] * 5 * f[2], atol=1e-5)


def test_cpm_cell_outputs_the_concat_of_its_leaves() -> None:
    nodes = ((("skip_connect", 0),), (("skip_connect", 1), ("skip_connect", 0)), (("skip_connect", 1),))
    assert leaf_nodes(nodes) == [2, 3]
    cell = CPMCell(3, 3, nodes)
    x = torch.randn(2, 3, 5, 5)
    n0 = cell.inp(x)
    expected = cell.out(torch.cat([n0 + n0, n0], dim=1))  # node 2 = n1 + n0 with n1 = n0; node 3 = n1
    assert torch.allclose(cell(x), expected, atol=1e-6)
    assert cell.out.in_channels == 6


def test_autofem_stacks_fpn_cells_then_cpm() -> None:
    fem = AutoFEM(8, ASFD_GENOTYPE, fpn_repeats=2, cpm_channels=4)
    assert len(fem.fpn) == 2 and fem.cpm is not None and len(fem.cpm) == 6
    feats = [torch.randn(2, 8, 32 // 2 ** i or 1, 24 // 2 ** i or 1) for i in range(6)]
    assert [o.shape for o in fem(feats)] == [f.shape for f in feats]
    assert AutoFEM(8, FPN_ONLY_GENOTYPE).cpm is None
