"""SSD box coding with variances: hand-computed offsets and round trips (torch and numpy)."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from facedet.coders import DeltaCoder, decode, decode_np, encode, encode_np


def test_hand_computed_offsets():
    anchors = torch.tensor([[0.0, 0.0, 16.0, 16.0], [0.0, 0.0, 16.0, 16.0]])
    gt = torch.tensor([[2.0, 2.0, 18.0, 18.0], [0.0, 0.0, 32.0, 32.0]])
    t = encode(gt, anchors)
    # centre shift 2 px over 0.1 * 16 = 1.25; same size -> 0
    assert torch.allclose(t[0], torch.tensor([1.25, 1.25, 0.0, 0.0]))
    # centre 16 vs 8 -> 8 / 1.6 = 5; size x2 -> log 2 / 0.2
    assert torch.allclose(t[1], torch.tensor([5.0, 5.0, math.log(2) / 0.2, math.log(2) / 0.2]))
    assert np.allclose(encode_np(gt.numpy(), anchors.numpy()), t.numpy())
    # variance-free coding (SRN / Group Sampling)
    assert torch.allclose(encode(gt, anchors, (1.0, 1.0))[1], torch.tensor([0.5, 0.5, math.log(2), math.log(2)]))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(1, 200), min_size=8, max_size=8))
def test_round_trip(vals):
    a = torch.tensor(vals[:4]).reshape(1, 4)
    a = torch.cat([a[:, :2], a[:, :2] + a[:, 2:] + 1], 1)
    g = torch.tensor(vals[4:]).reshape(1, 4)
    g = torch.cat([g[:, :2], g[:, :2] + g[:, 2:] + 1], 1)
    coder = DeltaCoder()
    assert torch.allclose(coder.decode(coder.encode(g, a), a), g, atol=1e-3)
    gn, an = g.double().numpy(), a.double().numpy()
    assert np.allclose(coder.decode_np(coder.encode_np(gn, an), an), gn, atol=1e-6)


def test_batched_shapes_and_clamp():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 10.0]]).expand(3, 5, 4)
    deltas = torch.zeros(3, 5, 4)
    deltas[..., 2:] = 100.0
    out = decode(deltas, anchors, max_log_wh=math.log(4))
    assert out.shape == (3, 5, 4) and torch.allclose(out[0, 0], torch.tensor([-15.0, -15.0, 25.0, 25.0]))
    assert np.allclose(decode_np(deltas.numpy(), anchors.numpy(), max_log_wh=math.log(4)), out.numpy())
