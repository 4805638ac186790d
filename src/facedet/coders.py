"""SSD box coding with variances (S3FD, EXTD, DSFD): xyxy boxes <-> offsets relative to anchors.

With anchor centre ``a_c`` and size ``a_wh`` (continuous convention, no +1)::

    t_xy = (g_c - a_c) / (v0 * a_wh)        t_wh = log(g_wh / a_wh) / v1

Variances default to ``(0.1, 0.2)`` (SSD/S3FD/EXTD); ``(1, 1)`` gives the variance-free coding of
SRN / AInnoFace / Group Sampling. Boxes and anchors are xyxy; the coding is invariant to a per-axis
rescaling, so pixel and normalised coordinates give the same offsets. ``max_log_wh`` optionally clamps
the size logits before ``exp`` (the reference implementations do not clamp: default None).
Torch functions work on any leading batch shape; numpy twins serve the ONNX Runtime path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DEFAULT_VARIANCES = (0.1, 0.2)


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
class SSDBoxCoder:
    """Coder object carrying its variances, for criteria and post-processors."""

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
