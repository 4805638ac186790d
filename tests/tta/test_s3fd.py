"""S3FD pyramid test, box voting (hand-computed) and EXTD decoding (torch and numpy paths)."""

from __future__ import annotations

import math

import numpy as np
import torch

from facedet.families.extd import build_extd
from facedet.models.outputs import HeadOutputs
from facedet.tta import PyramidTest, box_vote, flip_detect, max_shrink_extd
from tests.decode_helpers import decode, frames, post_of


def test_box_vote_hand_computed():
    dets = np.array([
        [0, 0, 10, 10, 0.9],
        [1, 1, 11, 11, 0.6],  # IoU with the first (+1 convention) = 100 / 142 -> merged
        [50, 50, 60, 60, 0.8],  # alone: dropped (reference quirk)
        [100, 100, 110, 110, 0.3],
        [100, 100, 112, 112, 0.2],  # IoU 121 / 169 -> merged
    ])
    out = box_vote(dets[::-1])  # input order must not matter
    assert np.allclose(out, [[0.4, 0.4, 10.4, 10.4, 0.9], [100, 100, 110.8, 110.8, 0.3]])
    kept = box_vote(dets, drop_singletons=False)
    assert np.allclose(kept[1], [50, 50, 60, 60, 0.8]) and len(kept) == 3
    assert box_vote(dets, keep=1).shape == (1, 5)
    assert box_vote(np.zeros((0, 5))).shape == (0, 5)  # the reference would crash here


def test_box_vote_keeps_a_zero_area_box_as_its_own_cluster():
    # with offset 0 a degenerate box has IoU 0/0 = nan with itself; it must still end its cluster
    dets = np.array([[5, 5, 5, 9, 0.9], [0, 0, 10, 10, 0.5], [0, 0, 10, 10, 0.4]])
    with np.errstate(invalid="ignore"):
        out = box_vote(dets, iou_thr=0.5, keep=None, drop_singletons=False, offset=0.0)
    assert np.allclose(out, [[5, 5, 5, 9, 0.9], [0, 0, 10, 10, 0.5]])


def test_pyramid_scales_follow_reference_rules():
    t = PyramidTest(max_shrink=max_shrink_extd)
    m = math.sqrt(1700 * 1200 / (768 * 1024))
    assert np.allclose(t.scales(768, 1024), [1.0, 0.5, m])
    m = max_shrink_extd(200, 300)  # 5.83: enlarge x2, x4, then m
    assert np.allclose(t.scales(200, 300), [1.0, 0.5, 2.0, 4.0, m])
    m = max_shrink_extd(3000, 3000)  # 0.476: everything shrinks
    assert np.allclose(t.scales(3000, 3000), [m, 0.5 * m, (0.5 * m + m) / 2])


def test_pyramid_size_gates_and_flip():
    calls = []

    def detect(image, shrink):
        calls.append((image.shape, shrink, image[0, 0, 0]))
        return np.array([[100, 100, 109, 109, 0.9], [300, 300, 499, 499, 0.8]], dtype=np.float64)

    image = np.zeros((768, 1024, 3), np.uint8)
    image[0, -1] = 7  # marks the mirrored pass
    passes = PyramidTest(max_shrink=max_shrink_extd).passes(detect, image)
    # base (2) + flipped (2) + shrunk, big faces only (1) + enlarged, small faces only (1)
    assert len(passes) == 6 and len(calls) == 4
    assert calls[1][2] == 7  # the second pass saw the mirrored image
    assert np.allclose(passes[2], [1024 - 109, 100, 1024 - 100, 109, 0.9])
    assert np.allclose(passes[4, :4], [300, 300, 499, 499]) and np.allclose(passes[5, :4], [100, 100, 109, 109])
    f = flip_detect(detect, image, 1.0, flip_offset=1.0)
    assert np.allclose(f[0, :4], [1023 - 109, 100, 1023 - 100, 109])


def _outputs(feat_sizes, hot):
    """Logits strongly background everywhere except ``hot``: {global row: face logit}."""
    n = sum(h * w for h, w in feat_sizes)
    cls = torch.zeros(1, n, 2)
    cls[..., 1] = -10.0
    reg = torch.zeros(1, n, 4)
    for row, logit in hot.items():
        cls[0, row, 1] = logit
    splits = [h * w for h, w in feat_sizes]
    return HeadOutputs(list(cls.split(splits, 1)), list(reg.split(splits, 1)), None, feat_sizes)


def test_decode_torch_and_numpy_agree_with_anchors():
    model = build_extd("extd_fpn_32")  # anchors 16 .. 512 on strides 4 .. 128, cell centres
    sizes = [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1), (1, 1)]
    out = _outputs(sizes, {256 + 9: 5.0, 256 + 10: 3.0, 5: 2.0})
    boxes, scores = decode(out, model)[0]
    anchors = model.anchors.boxes_np(sizes)
    # level-1 row 9 = (y 1, x 1): centre (12, 12), side 32; row 10 overlaps it (IoU 0.6 > 0.3): suppressed
    assert np.allclose(anchors[256 + 9], [-4, -4, 28, 28])
    assert np.allclose(boxes, anchors[[256 + 9, 5]])
    assert np.allclose(scores, [1 / (1 + math.exp(-5)), 1 / (1 + math.exp(-2))], atol=1e-6)
    arrays = {f"{k}_{i}": t.numpy() for k, part in (("cls", out.cls), ("reg", out.reg)) for i, t in enumerate(part)}
    (npd,) = post_of(model).numpy(arrays, frames(1, (64, 64)))
    assert np.allclose(npd.boxes, boxes) and np.allclose(npd.scores, scores)
    assert len(decode(out, model, score_thr=0.9)[0][1]) == 1
