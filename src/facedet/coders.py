"""Box coders: SSD-style deltas relative to anchors (S3FD, EXTD, DSFD, Group Sampling, SRN) and
SCRFD's distances from a centre point; the detector owns one (``model.coder``).

With anchor centre ``a_c`` and size ``a_wh`` (continuous convention, no +1)::

    t_xy = (g_c - a_c) / (v0 * a_wh)        t_wh = log(g_wh / a_wh) / v1

Variances default to ``(0.1, 0.2)`` (SSD/S3FD/EXTD); ``(1, 1)`` gives the variance-free coding of
SRN / AInnoFace / Group Sampling. Boxes and anchors are xyxy; the coding is invariant to a per-axis
rescaling, so pixel and normalised coordinates give the same offsets. ``max_log_wh`` optionally clamps
the size logits before ``exp`` (the reference implementations do not clamp: default None).
Torch functions work on any leading batch shape; numpy twins serve the ONNX Runtime path.

:class:`DeltaCoder` carries the variances and the clamp; :class:`DistanceCoder` decodes SCRFD's
``l t r b`` distances (in stride units) and landmark offsets around the priors' centres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
else:
    from .lazy import torch

DEFAULT_VARIANCES = (0.1, 0.2)
VARIANCE_FREE = (1.0, 1.0)  # SRN / AInnoFace / Group Sampling (paper eq. 13)
DETECTRON_MAX_LOG_WH = math.log(1000.0 / 16)  # Detectron's clamp of the size deltas before exp


def _centre_size(b):
    return (b[..., :2] + b[..., 2:]) / 2, b[..., 2:] - b[..., :2]


def encode(
    gt: torch.Tensor, anchors: torch.Tensor, variances: tuple[float, float] = DEFAULT_VARIANCES
) -> torch.Tensor:
    """Offsets ``(..., 4)`` of xyxy ``gt`` relative to xyxy ``anchors`` (broadcasting)."""
    gc, gwh = _centre_size(gt)
    ac, awh = _centre_size(anchors)
    txy = (gc - ac) / (variances[0] * awh)
    twh = torch.log(gwh / awh) / variances[1]
    return torch.cat([txy, twh], dim=-1)


def decode(
    deltas: torch.Tensor,
    anchors: torch.Tensor,
    variances: tuple[float, float] = DEFAULT_VARIANCES,
    max_log_wh: float | None = None,
) -> torch.Tensor:
    """xyxy boxes from offsets ``(..., 4)`` and xyxy ``anchors`` (inverse of :func:`encode`)."""
    ac, awh = _centre_size(anchors)
    twh = deltas[..., 2:] * variances[1]
    if max_log_wh is not None:
        twh = twh.clamp(max=max_log_wh)
    c = ac + deltas[..., :2] * variances[0] * awh
    half = awh * torch.exp(twh) / 2
    return torch.cat([c - half, c + half], dim=-1)


def encode_np(
    gt: np.ndarray, anchors: np.ndarray, variances: tuple[float, float] = DEFAULT_VARIANCES
) -> np.ndarray:
    """Numpy twin of :func:`encode`."""
    gc, gwh = _centre_size(gt)
    ac, awh = _centre_size(anchors)
    return np.concatenate([(gc - ac) / (variances[0] * awh), np.log(gwh / awh) / variances[1]], axis=-1)


def decode_np(
    deltas: np.ndarray,
    anchors: np.ndarray,
    variances: tuple[float, float] = DEFAULT_VARIANCES,
    max_log_wh: float | None = None,
) -> np.ndarray:
    """Numpy twin of :func:`decode`."""
    ac, awh = _centre_size(anchors)
    twh = deltas[..., 2:] * variances[1]
    if max_log_wh is not None:
        twh = np.minimum(twh, max_log_wh)
    c = ac + deltas[..., :2] * variances[0] * awh
    half = awh * np.exp(twh) / 2
    return np.concatenate([c - half, c + half], axis=-1)


@dataclass(frozen=True)
class DeltaCoder:
    """SSD deltas ``(t_x, t_y, t_w, t_h)`` relative to xyxy anchors, with ``variances`` and an
    optional clamp ``max_log_wh`` of the size deltas before ``exp`` (torchvision's ``BoxCoder``)."""

    variances: tuple[float, float] = DEFAULT_VARIANCES
    max_log_wh: float | None = None

    def encode(self, gt: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        return encode(gt, anchors, self.variances)

    def decode(self, deltas: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        return decode(deltas, anchors, self.variances, self.max_log_wh)

    def encode_np(self, gt: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        return encode_np(gt, anchors, self.variances)

    def decode_np(self, deltas: np.ndarray, anchors: np.ndarray) -> np.ndarray:
        return decode_np(deltas, anchors, self.variances, self.max_log_wh)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (ONNX metadata ``facedet.coder``)."""
        return {"type": "delta", "variances": list(self.variances), "max_log_wh": self.max_log_wh}


@dataclass(frozen=True)
class DistanceCoder:
    """SCRFD / FCOS distances ``(l, t, r, b)`` from a centre, divided by the level stride when
    ``per_stride`` (SCRFD's head predicts in stride units); landmarks are offsets from the centre."""

    per_stride: bool = True

    def decode(self, dist: torch.Tensor, centres: torch.Tensor, strides: torch.Tensor | float = 1.0) -> torch.Tensor:
        """xyxy boxes from distances ``(..., 4)`` and centres ``(..., 2)``; ``strides`` broadcast per row."""
        d = dist * _col(strides, dist) if self.per_stride else dist
        return torch.cat([centres - d[..., :2], centres + d[..., 2:]], dim=-1)

    def encode(self, boxes: torch.Tensor, centres: torch.Tensor, strides: torch.Tensor | float = 1.0) -> torch.Tensor:
        """Inverse of :meth:`decode`."""
        d = torch.cat([centres - boxes[..., :2], boxes[..., 2:] - centres], dim=-1)
        return d / _col(strides, d) if self.per_stride else d

    def decode_np(self, dist: np.ndarray, centres: np.ndarray, strides: np.ndarray | float = 1.0) -> np.ndarray:
        d = dist * _col_np(strides) if self.per_stride else dist
        return np.concatenate([centres - d[..., :2], centres + d[..., 2:]], axis=-1)

    def decode_points(self, offsets: torch.Tensor, centres: torch.Tensor, strides: torch.Tensor | float = 1.0
                      ) -> torch.Tensor:
        """Landmarks ``(..., K, 2)`` from offsets ``(..., 2K)`` around the centres."""
        o = offsets * _col(strides, offsets) if self.per_stride else offsets
        return o.reshape(*o.shape[:-1], o.shape[-1] // 2, 2) + centres[..., None, :]

    def decode_points_np(self, offsets: np.ndarray, centres: np.ndarray, strides: np.ndarray | float = 1.0
                         ) -> np.ndarray:
        o = offsets * _col_np(strides) if self.per_stride else offsets
        return o.reshape(*o.shape[:-1], o.shape[-1] // 2, 2) + centres[..., None, :]

    def describe(self) -> dict[str, Any]:
        return {"type": "distance", "per_stride": self.per_stride}


BoxCoder = DeltaCoder | DistanceCoder


def coder_from_description(d: dict[str, Any]) -> BoxCoder:
    """A coder from :meth:`DeltaCoder.describe` / :meth:`DistanceCoder.describe`; ValueError otherwise."""
    if d.get("type") == "delta":
        v = d.get("variances", DEFAULT_VARIANCES)
        return DeltaCoder((float(v[0]), float(v[1])), None if d.get("max_log_wh") is None else float(d["max_log_wh"]))
    if d.get("type") == "distance":
        return DistanceCoder(bool(d.get("per_stride", True)))
    raise ValueError(f"unknown box coder description {d!r}")


def _col(strides: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor | float:
    return strides[..., None] if isinstance(strides, torch.Tensor) and strides.dim() == like.dim() - 1 else strides


def _col_np(strides: np.ndarray | float) -> np.ndarray | float:
    return strides[..., None] if isinstance(strides, np.ndarray) and strides.ndim >= 1 else strides
