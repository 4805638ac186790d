"""AInnoFace / SRN decoding on hand-made outputs: the STC gate, STR refine-then-decode, the sparse-level
rule, torch and numpy (ONNX Runtime names) alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from facedet.coders import VARIANCE_FREE, DeltaCoder
from facedet.families.ainnoface.postprocess import TwoStepPostProcessor
from facedet.models.outputs import HeadOutputs
from facedet.postprocess import Frame, Settings
from facedet.priors import AnchorGrid

GRID = AnchorGrid((8, 16), ((8.0,), (16.0,)), offsets=(0.5,))  # level 0: 2 anchors, level 1: 1 anchor
SIZES = [(1, 2), (1, 1)]
FRAME = Frame(1.0, (64, 64), (8, 16))


def _outputs(level1_logit: float = 3.0) -> HeadOutputs:
    first = HeadOutputs([torch.tensor([[[-10.0], [3.0]]]), torch.tensor([[[-10.0]]])],
                        [torch.zeros(1, 2, 4), torch.tensor([[[1.0, 1.0, 0.0, 0.0]]])], None, SIZES)
    return HeadOutputs([torch.tensor([[[3.0], [2.0]]]), torch.tensor([[[level1_logit]]])],
                       [torch.zeros(1, 2, 4), torch.zeros(1, 1, 4)], None, SIZES, aux=first)


def _both(post: TwoStepPostProcessor, out: HeadOutputs):
    arrays = {n: t.numpy() for n, t in zip(post.output_names, post.flatten(out), strict=True)}
    return post.torch(out, [FRAME])[0], post.numpy(arrays, [FRAME])[0]


def test_stc_gate_and_str_refinement() -> None:
    post = TwoStepPostProcessor(GRID, DeltaCoder(VARIANCE_FREE), Settings(0.3, 0.4), stc_levels=(0,), str_levels=(1,))
    assert post.output_names == ("cls_0", "cls_1", "reg_0", "reg_1", "first_cls_0", "first_reg_1")
    for dets in _both(post, _outputs()):
        # anchor 0 is gated by its first step (face prob 4.5e-5 < 0.01) although its second step scores 0.95;
        # the STR anchor [0,0,16,16] moves by (1, 1) anchor sizes before the zero second-step deltas
        order = np.argsort(dets.boxes[:, 0])
        np.testing.assert_allclose(dets.boxes[order], [[8, 0, 16, 8], [16, 16, 32, 32]], atol=1e-5)
        s = 1 / (1 + math.exp(-3.0))
        np.testing.assert_allclose(np.sort(dets.scores), [1 / (1 + math.exp(-2.0)), s], atol=1e-6)


@pytest.mark.parametrize("threshold, kept", [(0.3, 1), (0.05, 2)])
def test_sparse_level_rule_only_in_the_evaluation_regime(threshold: float, kept: int) -> None:
    post = TwoStepPostProcessor(GRID, DeltaCoder(VARIANCE_FREE), Settings(threshold, 0.4), stc_levels=(0,),
                                str_levels=(1,))
    for dets in _both(post, _outputs(level1_logit=-5.0)):  # 0.0067: under both thresholds
        assert len(dets) == kept  # every level here has under 120 positions: threshold 0 at 0.05, not at 0.3
