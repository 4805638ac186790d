"""DSFD's FEM, the cosine classifier and the dual-shot head."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from facedet.models.heads.cosine import CosineClassifier
from facedet.models.heads.dual_shot import DualShotHead
from facedet.models.necks.dsfd_fem import DSFDFEM, DilatedBlock


def test_cosine_logits_are_scaled_cosines() -> None:
    torch.manual_seed(0)
    head = CosineClassifier(5, 2, scale=16.0)
    x = torch.randn(3, 5, 4, 4)
    out = head(x)
    w = head.weight.view(2, 5)
    v = x.permute(0, 2, 3, 1).reshape(-1, 5)
    cos = (v / v.norm(dim=1, keepdim=True)) @ (w / w.norm(dim=1, keepdim=True)).T
    assert torch.allclose(out.permute(0, 2, 3, 1).reshape(-1, 2), 16.0 * cos, atol=1e-5)
    assert torch.allclose(head(7.0 * x), out, atol=1e-5)  # only the direction counts
    assert out.abs().max() <= 16.0 + 1e-5


def test_dsfd_fem_split_and_shapes() -> None:
    block = DilatedBlock(128)
    assert [b[-1].out_channels for b in block.branches] == [42, 42, 44]
    assert [sum(isinstance(m, torch.nn.Conv2d) for m in b) for b in block.branches] == [1, 2, 3]
    fem = DSFDFEM(12, 3)
    feats = [torch.randn(1, 12, 16, 12), torch.randn(1, 12, 8, 6), torch.randn(1, 12, 4, 3)]
    out = fem(feats)
    assert [o.shape for o in out] == [f.shape for f in feats] and all((o >= 0).all() for o in out)
    # by hand: top-down 1x1 + ReLU on the coarser map, bilinear up, PRODUCT with the lateral, ReLU
    t2 = F.relu(fem.lateral[2](feats[2]))
    t1 = F.relu(F.interpolate(F.relu(fem.topdown[1](t2)), size=(8, 6), mode="bilinear") * fem.lateral[1](feats[1]))
    t0 = F.relu(F.interpolate(F.relu(fem.topdown[0](t1)), size=(16, 12), mode="bilinear") * fem.lateral[0](feats[0]))
    for o, t, blk in zip(out, (t0, t1, t2), fem.blocks, strict=True):
        assert torch.allclose(o, blk(t), atol=1e-6)


def test_dual_shot_head_maxout_level_and_layout() -> None:
    head = DualShotHead(8, num_levels=2, head_convs=1, cosine=False, maxout_levels=(0,), num_bg=3, num_face=3)
    assert head.cls_pred[0].out_channels == 4 and head.cls_pred[1].out_channels == 4
    raw1 = head.cls_pred[1](head.cls_branch[1](torch.ones(1, 8, 1, 1)))
    max_in, _ = head(1, torch.ones(1, 8, 1, 1))  # max-in: [bg, face_1..3] -> [bg, max face]
    assert torch.allclose(max_in[0, 0], torch.stack([raw1[0, 0, 0, 0], raw1[0, 1:, 0, 0].max()]))
    cls, reg = head(0, torch.randn(2, 8, 3, 5))
    assert cls.shape == (2, 15, 2) and reg.shape == (2, 15, 4)
    raw = head.cls_pred[0](head.cls_branch[0](torch.ones(1, 8, 1, 1)))
    cls1, _ = head(0, torch.ones(1, 8, 1, 1))
    assert torch.allclose(cls1[0, 0], torch.stack([raw[0, :3, 0, 0].max(), raw[0, 3, 0, 0]]))
