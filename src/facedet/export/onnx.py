"""ONNX export in insightface's SCRFD output layout, with dynamic batch and image size.

Outputs, in order: ``score_<s>`` (sigmoided, ``(B, N_s, 1)``), ``bbox_<s>`` (``(B, N_s, 4)``,
stride units) and, for landmark models, ``kps_<s>`` (``(B, N_s, 10)``) for each stride ``s``;
input ``input.1`` is the normalised NCHW image. The layout is the official one, so the same
ONNX Runtime code runs our exports and insightface's files.

Other families (EXTD, Group Sampling: softmax heads over anchors) export their raw per-level
outputs: ``cls_<i>`` (logits ``(B, N_i, C)``) then ``reg_<i>`` (encoded offsets ``(B, N_i, 4)``),
level ``i`` finest first; their decoders (``facedet.decoders``) apply softmax and box decoding.

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


def _scrfd_layout(model: nn.Module) -> bool:
    return getattr(model, "family", "scrfd") == "scrfd"


class ExportWrapper(nn.Module):
    """Flatten ``HeadOutputs`` into a tuple: SCRFD's official layout (sigmoid applied to scores),
    or raw ``cls`` then ``reg`` per level for the other families."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.scrfd = _scrfd_layout(model)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(x)
        if not self.scrfd:
            return tuple(list(out.cls) + list(out.reg))
        scores = [c.sigmoid() for c in out.cls]
        kps = list(out.kps) if out.kps is not None else []
        return tuple(scores + list(out.reg) + kps)


def output_names(model: nn.Module) -> list[str]:
    if not _scrfd_layout(model):
        n = len(model.strides)
        return [f"cls_{i}" for i in range(n)] + [f"reg_{i}" for i in range(n)]
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
    """Export ``model`` (eval mode, CPU) to ``path``; ``input_size`` is the (W, H) of the trace input.

    Two-stage detectors (Group Sampling with the grouped Fast R-CNN) are refused: their second stage
    pools proposals that are chosen by NMS inside the graph, which this layout does not carry."""
    if getattr(model, "rcnn", None) is not None:
        raise ValueError("ONNX export covers single-stage detectors; this Group Sampling model has the grouped "
                         "Fast R-CNN second stage (run it with backend='torch')")
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
    import onnxruntime as ort

    w, h = input_size
    x = torch.from_numpy(
        np.random.default_rng(seed).standard_normal((batch, 3, h, w)).astype("float32"))
    with torch.no_grad():
        ref = ExportWrapper(model.eval().cpu())(x)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    return max(float(abs(a.numpy() - b.reshape(a.shape)).max()) for a, b in zip(ref, outs, strict=True))
