"""AnchorGrid rows written out by hand (detectron2's ``test_anchor_generator.py`` style), point grids,
per-anchor levels / sizes / strides, caching and the ONNX metadata description."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from facedet.priors import AnchorGrid, PointGrid

R125, R15 = math.sqrt(1.25), math.sqrt(1.5)


def test_every_row_for_ratio_1_25_two_sizes() -> None:
    """SRN / AInnoFace style: stride 4, sizes 8 and 8√2 ... here 8 and 16, ratio h/w 1.25, offset 0.5."""
    grid = AnchorGrid((4,), ((8.0, 16.0),), ratios=(1.25,), offsets=(0.5,))
    w8, h8, w16, h16 = 8 / R125, 8 * R125, 16 / R125, 16 * R125  # area kept: w*h = s^2, h/w = 1.25
    rows = []
    for cy, cx in ((2, 2), (2, 6)):  # a 1x2 map: centres (2, 2) and (6, 2) in x, y
        for w, h in ((w8, h8), (w16, h16)):
            rows.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
    got = grid.boxes([(1, 2)])
    assert got.shape == (4, 4)
    np.testing.assert_allclose(got.numpy(), np.array(rows), rtol=1e-6)
    np.testing.assert_allclose((got[:, 3] - got[:, 1]) / (got[:, 2] - got[:, 0]), [1.25] * 4, rtol=1e-6)


def test_every_row_for_ratio_1_5_two_levels() -> None:
    """DSFD / ASFD style: one anchor per location, h/w 1.5, sizes 16 and 32 on strides 4 and 8."""
    grid = AnchorGrid((4, 8), ((16.0,), (32.0,)), ratios=(1.5,), offsets=(0.5,))
    hw16, hh16, hw32, hh32 = 8 / R15, 8 * R15, 16 / R15, 16 * R15
    expect = np.array([
        [2 - hw16, 2 - hh16, 2 + hw16, 2 + hh16],  # level 0, (y 0, x 0), centre (2, 2)
        [6 - hw16, 2 - hh16, 6 + hw16, 2 + hh16],  # level 0, (y 0, x 1), centre (6, 2)
        [2 - hw16, 6 - hh16, 2 + hw16, 6 + hh16],  # level 0, (y 1, x 0), centre (2, 6)
        [6 - hw16, 6 - hh16, 6 + hw16, 6 + hh16],  # level 0, (y 1, x 1), centre (6, 6)
        [4 - hw32, 4 - hh32, 4 + hw32, 4 + hh32],  # level 1, (0, 0), centre (4, 4)
    ])
    np.testing.assert_allclose(grid.boxes_np([(2, 2), (1, 1)]), expect, rtol=1e-6)
    assert grid.counts([(2, 2), (1, 1)]) == [4, 1]
    assert grid.level_index([(2, 2), (1, 1)]).tolist() == [0, 0, 0, 0, 1]
    assert grid.strides_per_anchor([(2, 2), (1, 1)]).tolist() == [4, 4, 4, 4, 8]


def test_sizes_then_ratios_inside_a_location() -> None:
    grid = AnchorGrid((16,), ((16.0, 32.0),), ratios=(1.0, 2.0))
    b = grid.boxes([(1, 1)])
    wh = (b[:, 2:] - b[:, :2]).numpy()
    np.testing.assert_allclose(wh, [[16, 16], [16 / math.sqrt(2), 16 * math.sqrt(2)], [32, 32],
                                    [32 / math.sqrt(2), 32 * math.sqrt(2)]], rtol=1e-6)
    assert grid.anchor_sizes([(1, 1)]).tolist() == [16, 16, 32, 32] and grid.per_location(0) == 4


def test_scrfd_grid_matches_square_anchors_and_points() -> None:
    """Offset 0 (mmdet 2.x): SCRFD's 2 anchors per location, the point grid repeats each centre twice."""
    grid = AnchorGrid((8, 16, 32), ((16.0, 32.0), (64.0, 128.0), (256.0, 512.0)))
    fs = [(2, 3), (1, 2), (1, 1)]
    b = grid.boxes(fs)
    assert b.shape == (2 * (6 + 2 + 1), 4)
    assert b[:2].tolist() == [[-8, -8, 8, 8], [-16, -16, 16, 16]]  # location (0, 0) at the origin
    assert b[2].tolist() == [0, -8, 16, 8]  # location (0, 1): centre (8, 0)
    points = grid.points()
    assert points == PointGrid((8, 16, 32), per_location=2, offset=0.0)
    np.testing.assert_array_equal(np.concatenate(points.points_np(fs)), ((b[:, :2] + b[:, 2:]) / 2).numpy())
    assert torch.equal(torch.cat(points.points(fs)), (b[:, :2] + b[:, 2:]) / 2)


def test_cache_description_and_errors() -> None:
    grid = AnchorGrid((4, 8), ((16.0,), (32.0, 48.0)), ratios=(1.25,), offsets=(0.5, 0.25))
    assert grid.boxes([(3, 3), (2, 2)]) is grid.boxes([(3, 3), (2, 2)])  # cached
    with torch.inference_mode():
        inside = grid.boxes([(5, 5), (3, 3)])
    assert not inside.is_inference()  # usable in training after a first build under inference mode
    assert AnchorGrid.from_description(grid.describe()) == grid
    with pytest.raises(ValueError, match="agree"):
        AnchorGrid((4, 8), ((16.0,),))
    with pytest.raises(ValueError, match="anchor-grid"):
        AnchorGrid.from_description({"type": "points"})
    with pytest.raises(ValueError, match="anchors per location"):
        grid.points()


@pytest.mark.parametrize("grid", [
    AnchorGrid((4, 8, 16, 32, 64, 128), ((16.0,), (32.0,), (64.0,), (128.0,), (256.0,), (512.0,))),
    AnchorGrid((8, 16), ((16.0, 32.0), (64.0, 128.0)), (1.0, 1.5), (0.5,)),
])
def test_numpy_boxes_equal_the_torch_grid_bit_for_bit(grid) -> None:
    """The ONNX Runtime path builds its anchors in numpy (no torch needed): the very same floats."""
    sizes = ((80, 60), (40, 30), (20, 15), (10, 8), (5, 4), (3, 2))[: len(grid.strides)]
    np_boxes = grid.boxes_np(sizes)
    torch_boxes = grid.boxes(sizes).numpy()
    assert np_boxes.dtype == np.float32 and np.array_equal(np_boxes, torch_boxes)
