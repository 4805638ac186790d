"""Independent functional EXTD forward written from clovaai/EXTD_Pytorch ``EXTD_*.forward`` and
``mobileFacenet_*_PReLU.py``, reading the OFFICIAL state-dict keys directly (no facedet module, no
name mapping). The parity test compares facedet's EXTD with converted weights against it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _bn(x, sd, p):
    return F.batch_norm(x, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"], sd[p + ".bias"],
                        False, 0.0, 1e-5)


def _prelu(x, sd, p):
    return F.prelu(x, sd[p + ".weight"])


def _seq_block(x, sd, k):
    """``base.k.conv`` Sequential as the official ``InvertedResidual_dwc`` builds it, executed by key."""
    p = f"base.{k}.conv."
    idx = sorted({int(key[len(p):].split(".")[0]) for key in sd if key.startswith(p)})
    y = x
    for j in idx:
        q = p + str(j)
        w = sd.get(q + ".weight")
        if q + ".running_mean" in sd:
            y = _bn(y, sd, q)
        elif w is not None and w.dim() == 1:  # PReLU slope
            y = _prelu(y, sd, q)
        else:  # conv: depthwise when its input-channel dim is 1 and kernel 3x3
            groups = y.shape[1] if w.shape[1] == 1 and w.shape[-1] == 3 else 1
            stride = 1
            if groups > 1 and k == sd["_stride2_block"]:
                stride = 2
            y = F.conv2d(y, w, sd.get(q + ".bias"), stride, w.shape[-1] // 2, 1, groups)
    residual = (k == 1 and x.shape[1] == y.shape[1]) or (k > 1 and k != sd["_stride2_block"])
    return x + y if residual else y


def reference_forward(sd: dict[str, torch.Tensor], img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loc (B, N, 4), conf (B, N, 2))`` with the official concatenation order (finest level first)."""
    sd = dict(sd)
    n_base = max(int(k.split(".")[1]) for k in sd if k.startswith("base.")) + 1  # 6 (48/64) or 8 (32)
    sd["_stride2_block"] = n_base - 1
    x = F.conv2d(img, sd["base.0.0.weight"], None, 2, 1)
    x = _prelu(_bn(x, sd, "base.0.1"), sd, "base.0.2")
    x = _seq_block(x, sd, 1)
    feats = []
    for _ in range(6):
        for k in range(2, n_base):
            x = _seq_block(x, sd, k)
        feats.append(x)
    s1, s2, s3, s4, s5, s6 = feats
    u = s6
    sources = [s6]
    for i, lateral in enumerate([s5, s4, s3, s2, s1]):
        up = F.interpolate(u, size=lateral.shape[-2:], mode="bilinear", align_corners=False)
        c = up.shape[1]
        up = F.conv2d(up, sd[f"upfeat.{i}.0.weight"], None, 1, 1, 1, c)
        up = F.conv2d(up, sd[f"upfeat.{i}.1.weight"])
        u = F.relu(_bn(up, sd, f"upfeat.{i}.2")) + lateral
        sources.append(u)
    sources = sources[::-1]
    locs, confs = [], []
    for i, s in enumerate(sources):
        loc = F.conv2d(s, sd[f"loc.{i}.weight"], sd[f"loc.{i}.bias"], 1, 1)
        conf = F.conv2d(s, sd[f"conf.{i}.weight"], sd[f"conf.{i}.bias"], 1, 1)
        if i == 0:
            conf = torch.cat([conf[:, :3].max(dim=1, keepdim=True).values, conf[:, 3:]], dim=1)
        locs.append(loc.permute(0, 2, 3, 1).reshape(img.shape[0], -1, 4))
        confs.append(conf.permute(0, 2, 3, 1).reshape(img.shape[0], -1, 2))
    return torch.cat(locs, 1), torch.cat(confs, 1)
