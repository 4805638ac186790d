"""ONNX export in insightface's SCRFD output layout, with dynamic batch and image size.

Outputs, in order: ``score_<s>`` (sigmoided, ``(B, N_s, 1)``), ``bbox_<s>`` (``(B, N_s, 4)``,
stride units) and, for landmark models, ``kps_<s>`` (``(B, N_s, 10)``) for each stride ``s``;
input ``input.1`` is the normalised NCHW image. The layout is the official one, so the same
ONNX Runtime code runs our exports and insightface's files.

Opset 17: the lowest opset whose GroupNormalization-free graphs every current ONNX Runtime
(>= 1.14) runs with full optimisations; SCRFD needs nothing newer. We use the TorchScript-based
exporter (``dynamo=False``) because it handles the dynamic H, W of a conv net without a
``torch.export`` trace of data-dependent shapes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

DEFAULT_OPSET = 17


class ExportWrapper(nn.Module):
    """Flatten ``HeadOutputs`` into the official tuple of tensors (sigmoid applied to scores)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(x)
        scores = [c.sigmoid() for c in out.cls]
        kps = list(out.kps) if out.kps is not None else []
        return tuple(scores + list(out.reg) + kps)


def output_names(model: nn.Module) -> list[str]:
    strides = list(model.strides)
    names = [f"score_{s}" for s in strides] + [f"bbox_{s}" for s in strides]
    if getattr(model, "has_kps", False):
        names += [f"kps_{s}" for s in strides]
    return names


def export_onnx(
    model: nn.Module,
    path: str | Path,
    input_size: tuple[int, int] = (640, 640),
    opset: int = DEFAULT_OPSET,
    dynamic: bool = True,
) -> Path:
    """Export ``model`` (eval mode, CPU) to ``path``; ``input_size`` is the (W, H) of the trace input."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    wrapper = ExportWrapper(model).eval()  # torch.onnx.export restores the wrapper's mode on exit
    w, h = input_size
    dummy = torch.zeros(1, 3, h, w)
    names = output_names(model)
    axes = None
    if dynamic:
        axes = {"input.1": {0: "batch", 2: "height", 3: "width"}}
        axes.update({n: {0: "batch", 1: f"n_{n.split('_')[1]}"} for n in names})
    tmp = path.with_suffix(path.suffix + ".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is deliberate (see above)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks in forward trace as constants
        torch.onnx.export(
            wrapper, (dummy,), str(tmp), input_names=["input.1"], output_names=names,
            dynamic_axes=axes, opset_version=opset, dynamo=False, do_constant_folding=True,
        )
    tmp.replace(path)
    return path


def check_parity(model: nn.Module, onnx_path: str | Path, input_size: tuple[int, int] = (640, 480),
                 batch: int = 1, seed: int = 0) -> float:
    """Largest absolute difference between torch and ONNX Runtime outputs on a random input.

    ``input_size`` (W, H) may differ from the export's trace size: that checks the dynamic axes too.
    """
    from .runtime import OrtModel

    w, h = input_size
    x = torch.from_numpy(
        np.random.default_rng(seed).standard_normal((batch, 3, h, w)).astype("float32"))
    with torch.no_grad():
        ref = ExportWrapper(model.eval().cpu())(x)
    ort = OrtModel(onnx_path, num_threads=1)
    outs = ort.session.run(None, {ort.input_name: x.numpy()})
    return max(float(abs(a.numpy() - b.reshape(a.shape)).max()) for a, b in zip(ref, outs, strict=True))
