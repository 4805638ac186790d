"""Vectorised RoIAlign against a slow, literal transcription of torchvision's CPU kernel."""

from __future__ import annotations

import math

import pytest
import torch

from facedet.ops.roi_align import roi_align


def _bilinear(f: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """``bilinear_interpolate`` of torchvision ``roi_align_kernel.cpp`` for one (C, H, W) map."""
    _, h, w = f.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return torch.zeros(f.shape[0], dtype=f.dtype)
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= h - 1:
        y_high = y_low = h - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= w - 1:
        x_high = x_low = w - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    return (hy * hx * f[:, y_low, x_low] + hy * lx * f[:, y_low, x_high]
            + ly * hx * f[:, y_high, x_low] + ly * lx * f[:, y_high, x_high])


def reference_roi_align(feat, rois, out, scale, sampling_ratio, aligned):
    k, c = rois.shape[0], feat.shape[1]
    res = torch.zeros(k, c, out, out, dtype=feat.dtype)
    off = 0.5 if aligned else 0.0
    for n in range(k):
        b = int(rois[n, 0])
        x1, y1 = float(rois[n, 1]) * scale - off, float(rois[n, 2]) * scale - off
        x2, y2 = float(rois[n, 3]) * scale - off, float(rois[n, 4]) * scale - off
        rw, rh = x2 - x1, y2 - y1
        if not aligned:
            rw, rh = max(rw, 1.0), max(rh, 1.0)
        bh, bw = rh / out, rw / out
        gh = sampling_ratio if sampling_ratio > 0 else math.ceil(rh / out)
        gw = sampling_ratio if sampling_ratio > 0 else math.ceil(rw / out)
        count = max(gh * gw, 1)
        for ph in range(out):
            for pw in range(out):
                acc = torch.zeros(c, dtype=feat.dtype)
                for iy in range(gh):
                    y = y1 + ph * bh + (iy + 0.5) * bh / gh
                    for ix in range(gw):
                        x = x1 + pw * bw + (ix + 0.5) * bw / gw
                        acc += _bilinear(feat[b], y, x)
                res[n, :, ph, pw] = acc / count
    return res


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize("sampling_ratio", [-1, 2])
def test_roi_align_matches_reference(aligned: bool, sampling_ratio: int):
    g = torch.Generator().manual_seed(0)
    feat = torch.randn(2, 3, 9, 11, generator=g, dtype=torch.float64)
    rois = torch.tensor([
        [0, 0.0, 0.0, 40.0, 32.0],      # whole map at scale 1/4
        [1, 5.3, 7.1, 17.9, 30.2],     # generic
        [0, -6.0, -5.0, 8.0, 6.0],     # partly outside (top-left)
        [1, 30.0, 20.0, 52.0, 44.0],   # partly outside (bottom-right)
        [0, 10.0, 10.0, 10.5, 10.2],   # tiny (min size 1 when not aligned)
        [1, 12.0, 3.0, 12.0, 9.0],     # zero width
        [0, 2.0, 1.0, 39.0, 4.0],      # wide and flat: different adaptive grids per axis
    ], dtype=torch.float64)
    want = reference_roi_align(feat, rois, 3, 0.25, sampling_ratio, aligned)
    got = roi_align(feat, rois, 3, 0.25, sampling_ratio, aligned)
    assert torch.allclose(got, want, atol=1e-10)
    # chunking (tiny budget -> one RoI per chunk) gives the same result
    assert torch.allclose(roi_align(feat, rois, 3, 0.25, sampling_ratio, aligned, max_elems=1), want, atol=1e-10)


def test_roi_align_list_input_gradient_and_empty():
    feat = torch.randn(2, 2, 6, 6, dtype=torch.float64, requires_grad=True)
    boxes = [torch.tensor([[1.0, 1.0, 9.0, 7.0]], dtype=torch.float64), torch.tensor([[0.0, 2.0, 5.0, 11.0]],
                                                                                       dtype=torch.float64)]
    out = roi_align(feat, boxes, (2, 3), 0.5, 2, True)
    assert out.shape == (2, 2, 2, 3)
    ref = roi_align(feat, torch.tensor([[0, 1.0, 1.0, 9.0, 7.0], [1, 0.0, 2.0, 5.0, 11.0]], dtype=torch.float64),
                    (2, 3), 0.5, 2, True)
    assert torch.allclose(out, ref)
    assert torch.autograd.gradcheck(lambda f: roi_align(f, boxes, 2, 0.5, 2, True), (feat,))
    assert roi_align(feat, torch.zeros(0, 5, dtype=torch.float64), 7).shape == (0, 2, 7, 7)
    with pytest.raises(ValueError):
        roi_align(feat, torch.zeros(3, 4), 7)
