"""ONNX export in the layout the model's family chooses, with dynamic batch and image size, and the
metadata that decodes it without the torch model.

The outputs are the family post-processor's ``output_names`` / ``flatten`` (SCRFD: insightface's
official ``score_<s>``, ``bbox_<s>`` [, ``kps_<s>``] layout, so the same ONNX Runtime code runs our
exports and insightface's files; EXTD and Group Sampling: raw ``cls_<i>`` / ``reg_<i>`` per level);
input ``input.1`` is the normalised NCHW image. ``metadata_props`` hold ``facedet.family``,
``facedet.preset``, ``facedet.anchors``, ``facedet.coder``, ``facedet.kps`` and ``facedet.input``
(:meth:`DetectorInfo.to_metadata`), which :class:`~facedet.export.runtime.OrtModel` reads back.

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

from ..families import family_of
from ..models.detector import DetectorInfo
from ..postprocess.base import PostProcessor, Settings

DEFAULT_OPSET = 17


def export_layout(model: nn.Module) -> PostProcessor:
    """The family post-processor whose ``output_names`` / ``flatten`` define the export of ``model``."""
    return family_of(model).postprocess(DetectorInfo.of(model), Settings(), model)


class ExportWrapper(nn.Module):
    """``HeadOutputs`` flattened into the tuple of the family's ONNX layout."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.layout = export_layout(model)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.layout.flatten(self.model(x))


def output_names(model: nn.Module) -> list[str]:
    return list(export_layout(model).output_names)


def export_onnx(
    model: nn.Module,
    path: str | Path,
    input_size: tuple[int, int] = (640, 640),
    opset: int = DEFAULT_OPSET,
    dynamic: bool = True,
) -> Path:
    """Export ``model`` (eval mode, CPU) to ``path``; ``input_size`` is the (W, H) of the trace input.

    Models whose family cannot lay them out (Group Sampling with the grouped Fast R-CNN, whose second
    stage pools proposals chosen by NMS) are refused with the layout's reason."""
    layout = export_layout(model)
    if layout.export_error is not None:
        raise ValueError(layout.export_error)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval().cpu()
    wrapper = ExportWrapper(model).eval()  # torch.onnx.export restores the wrapper's mode on exit
    w, h = input_size
    dummy = torch.zeros(1, 3, h, w)
    names = list(layout.output_names)
    axes = None
    if dynamic:
        axes = {"input.1": {0: "batch", 2: "height", 3: "width"}}
        axes.update({n: {0: "batch", 1: f"n_{n.rsplit('_', 1)[1]}"} for n in names})
    tmp = path.with_suffix(path.suffix + ".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter is deliberate (see above)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shape checks in forward trace as constants
        torch.onnx.export(
            wrapper, (dummy,), str(tmp), input_names=["input.1"], output_names=names,
            dynamic_axes=axes, opset_version=opset, dynamo=False, do_constant_folding=True,
        )
    _write_metadata(tmp, DetectorInfo.of(model).to_metadata())
    tmp.replace(path)
    return path


def _write_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


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
