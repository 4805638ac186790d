"""RoIAlign (He et al. 2017) in pure torch, with ``torchvision.ops.roi_align`` semantics.

For RoI ``(b, x1, y1, x2, y2)`` in input pixels: start = ``x1 * spatial_scale - offset`` (offset 0.5
when ``aligned`` else 0); size = end - start, at least 1 when not ``aligned``; each of the
``ph x pw`` bins averages a ``gh x gw`` grid of bilinear samples at
``start + (bin + (i + 0.5) / g) * bin_size``, with ``g = sampling_ratio`` or, when
``sampling_ratio <= 0``, ``ceil(roi_size / pooled_size)`` per RoI (adaptive). A sample outside
``[-1, H] x [-1, W]`` is 0; inside, coordinates are clamped to the map as torchvision's kernel does.

Vectorised over RoIs, bins and samples: each chunk of RoIs uses the largest adaptive grid of the
chunk and masks the unused samples, so one gather serves a whole chunk (RoIs sorted by grid area;
``max_elems`` roughly bounds the sampled tensor size). Differentiable w.r.t. the features through
the gather (boxes: no gradient).
"""

from __future__ import annotations

import torch


def _rois_tensor(boxes: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
    """``(K, 5)`` rois from a ``(K, 5)`` tensor or a per-image list of ``(K_i, 4)`` boxes."""
    if isinstance(boxes, torch.Tensor):
        if boxes.ndim != 2 or boxes.shape[1] != 5:
            raise ValueError(f"rois must be (K, 5) [batch_index, x1, y1, x2, y2], got {tuple(boxes.shape)}")
        return boxes
    parts = [torch.cat([torch.full((len(b), 1), float(i), dtype=b.dtype, device=b.device), b.reshape(-1, 4)], 1)
             for i, b in enumerate(boxes)]
    if not parts:
        raise ValueError("empty list of boxes")
    return torch.cat(parts)


def _bilinear_gather(flat: torch.Tensor, b: torch.Tensor, y: torch.Tensor, x: torch.Tensor,
                     h: int, w: int) -> torch.Tensor:
    """Bilinear samples ``(..., C)`` of ``flat (N*H*W, C)`` at float coords ``y, x`` of image ``b``."""
    outside = (y < -1.0) | (y > h) | (x < -1.0) | (x > w)
    y = y.clamp(min=0)
    x = x.clamp(min=0)
    y0 = y.floor().long()
    x0 = x.floor().long()
    y_edge, x_edge = y0 >= h - 1, x0 >= w - 1
    y0 = torch.where(y_edge, torch.full_like(y0, h - 1), y0)
    x0 = torch.where(x_edge, torch.full_like(x0, w - 1), x0)
    y1 = torch.where(y_edge, y0, y0 + 1)
    x1 = torch.where(x_edge, x0, x0 + 1)
    y = torch.where(y_edge, y0.to(y.dtype), y)
    x = torch.where(x_edge, x0.to(x.dtype), x)
    ly, lx = y - y0, x - x0
    hy, hx = 1 - ly, 1 - lx
    base = b * (h * w)
    out = torch.zeros((), dtype=flat.dtype, device=flat.device)
    for yy, xx, wt in ((y0, x0, hy * hx), (y0, x1, hy * lx), (y1, x0, ly * hx), (y1, x1, ly * lx)):
        out = out + flat[(base + yy * w + xx).reshape(-1)].reshape(*wt.shape, -1) * wt[..., None]
    return out * (~outside)[..., None].to(flat.dtype)


def roi_align(
    features: torch.Tensor,
    boxes: torch.Tensor | list[torch.Tensor],
    output_size: int | tuple[int, int],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
    max_elems: int = 1 << 24,
) -> torch.Tensor:
    """``(K, C, ph, pw)`` pooled features of ``features (N, C, H, W)`` for each RoI (torchvision argument order)."""
    if features.ndim != 4:
        raise ValueError(f"features must be (N, C, H, W), got {tuple(features.shape)}")
    ph, pw = (output_size, output_size) if isinstance(output_size, int) else output_size
    rois = _rois_tensor(boxes).to(features.dtype).detach()
    n, c, h, w = features.shape
    k = rois.shape[0]
    if k == 0:
        return features.new_zeros((0, c, ph, pw))
    flat = features.permute(0, 2, 3, 1).reshape(n * h * w, c)
    offset = 0.5 if aligned else 0.0
    bidx = rois[:, 0].long()
    x1, y1 = rois[:, 1] * spatial_scale - offset, rois[:, 2] * spatial_scale - offset
    rw, rh = rois[:, 3] * spatial_scale - offset - x1, rois[:, 4] * spatial_scale - offset - y1
    if not aligned:
        rw, rh = rw.clamp(min=1.0), rh.clamp(min=1.0)
    bw, bh = rw / pw, rh / ph
    if sampling_ratio > 0:
        gh = torch.full((k,), sampling_ratio, dtype=torch.long, device=features.device)
        gw = gh.clone()
    else:
        gh, gw = torch.ceil(rh / ph).long().clamp(min=0), torch.ceil(rw / pw).long().clamp(min=0)
    # chunks of RoIs sorted by grid area (largest first), each sized so the sampled tensor fits max_elems
    order = torch.sort(gh * gw, descending=True, stable=True).indices
    areas = (gh * gw)[order].tolist()
    pieces, start = [], 0
    while start < k:
        per_roi = ph * pw * c * 4 * max(int(areas[start]), 1)
        end = min(k, start + max(1, max_elems // max(per_roi, 1)))
        sl = order[start:end]
        mh, mw = max(int(gh[sl].max()), 1), max(int(gw[sl].max()), 1)
        iy = torch.arange(mh, device=features.device, dtype=features.dtype)
        ix = torch.arange(mw, device=features.device, dtype=features.dtype)
        py = torch.arange(ph, device=features.device, dtype=features.dtype)
        px = torch.arange(pw, device=features.device, dtype=features.dtype)
        g_h, g_w = gh[sl].to(features.dtype), gw[sl].to(features.dtype)
        # y: (k, ph, mh), x: (k, pw, mw)
        fy = (iy[None, None, :] + 0.5) / g_h[:, None, None].clamp(min=1)
        fx = (ix[None, None, :] + 0.5) / g_w[:, None, None].clamp(min=1)
        y = y1[sl, None, None] + (py[None, :, None] + fy) * bh[sl, None, None]
        x = x1[sl, None, None] + (px[None, :, None] + fx) * bw[sl, None, None]
        kk = end - start
        yy = y[:, :, :, None, None].expand(kk, ph, mh, pw, mw)
        xx = x[:, None, None, :, :].expand(kk, ph, mh, pw, mw)
        bb = bidx[sl, None, None, None, None].expand(kk, ph, mh, pw, mw)
        vals = _bilinear_gather(flat, bb, yy, xx, h, w)  # (kk, ph, mh, pw, mw, C)
        valid = ((iy[None, :] < g_h[:, None])[:, None, :, None, None]
                 & (ix[None, :] < g_w[:, None])[:, None, None, None, :])
        vals = vals * valid[..., None].to(vals.dtype)
        count = (gh[sl] * gw[sl]).clamp(min=1).to(features.dtype)
        pooled = vals.sum(dim=(2, 4)) / count[:, None, None, None]  # (kk, ph, pw, C)
        pieces.append(pooled.permute(0, 3, 1, 2))
        start = end
    out = torch.cat(pieces)
    return out[torch.argsort(order)]
