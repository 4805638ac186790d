"""INT8 static quantisation of a detector's ONNX file through ONNX Runtime.

QDQ format (QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses into integer kernels),
per-channel int8 weights and uint8 activations (the U8S8 path that x86 VNNI runs fastest), activation
ranges calibrated (min/max) on real images put through the detector's own pre-processing. The
output keeps the input file's metadata, so ``FaceDetector(out, backend="onnx")`` decodes it exactly as
the float file. A file below opset 13 (insightface's exports) is upgraded first, since per-channel
QDQ needs it; ORT's pre-processing pass (shape inference, constant folding) runs next, as its
documentation advises for static quantisation.

``float_stride``: convolutions that read maps finer than 1/``float_stride`` of the input stay float
(default 8: the stem and every layer at strides 2 and 4). ONNX Runtime's int8 kernels (NHWC) lose to
its float NCHWc ones on those wide, thin layers, depthwise ones above all, and win on the
channel-heavy rest: on ``scrfd_500m.onnx`` at 640x480, one thread, the network ran 9.42 ms all-int8,
8.18 ms float and 7.24 ms with the float prefix, at dev-val-144 AP 0.877 / 0.867 / 0.811, 0.870 /
0.864 / 0.817 and 0.882 / 0.869 / 0.814 (``python benchmarks/int8_speed.py --ap``). ``float_stride=1``
quantises every convolution. The map sizes come from ONNX shape inference at a 640x640 input; a convolution
whose input size it cannot tell is quantised.

Calibration runs at ``max_side`` 1024 by default, the size ``FaceDetector`` runs at by default, so
that activation ranges are those of the images the file will see.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np


def calibration_blobs(images: Sequence[str | Path], onnx_path: str | Path, max_side: int = 640
                      ) -> Iterator[np.ndarray]:
    """``(1, 3, H, W)`` float32 inputs: each image at its aspect ratio, long side ``max_side``, padded to
    a multiple of 32 and normalised with the file's own mean/std/channel order."""
    from ..io import read_image
    from ..preprocess import Letterbox, normalize
    from .runtime import OrtModel

    info = OrtModel(onnx_path).info
    box = Letterbox(input_size=None, max_side=max_side)
    for path in images:
        canvas, _ = box(read_image(path))
        yield normalize(canvas, info.input_mean, info.input_std, info.input_rgb)


def spread(paths: Sequence[Path], count: int) -> list[Path]:
    """``count`` of ``paths`` evenly spread over the list (every k-th, k = len // count): a calibration set
    that samples every event of a sorted WIDER folder rather than its first few."""
    return list(paths[:: max(1, len(paths) // count)][:count])


def fine_convs(model: object, float_stride: int, probe: int = 640) -> list[str]:
    """Names of the ``Conv`` nodes of ``model`` (an ``onnx.ModelProto``) whose input is larger than
    ``probe / float_stride`` on a side when the graph input is ``probe`` x ``probe``."""
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(model)  # type: ignore[arg-type]
    dims = m.graph.input[0].type.tensor_type.shape.dim
    for d, v in zip(dims, (1, 3, probe, probe), strict=False):
        d.Clear()
        d.dim_value = v
    del m.graph.value_info[:]
    try:
        m = onnx.shape_inference.infer_shapes(m)
    except Exception:  # a graph shape inference cannot follow: quantise everything
        return []
    heights = {v.name: v.type.tensor_type.shape.dim[2].dim_value for v in [*m.graph.value_info, *m.graph.input]
               if len(v.type.tensor_type.shape.dim) == 4}
    return [n.name for n in m.graph.node
            if n.op_type == "Conv" and heights.get(n.input[0], 0) * float_stride > probe]


def quantize_int8(onnx_path: str | Path, out_path: str | Path, calibration: Sequence[str | Path],
                  max_side: int = 1024, per_channel: bool = True, float_stride: int = 8) -> Path:
    """Write the INT8 (QDQ) copy of ``onnx_path`` to ``out_path``, calibrated on the ``calibration`` images;
    convolutions on maps finer than 1/``float_stride`` of the input stay float (module docstring)."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .fuse import opset_of

    if not calibration:
        raise ValueError("INT8 calibration needs at least one image")
    src, out = Path(onnx_path), Path(out_path)
    if out.resolve() == src.resolve():
        raise ValueError(f"{out} is the input file: choose another name")
    session_input = onnx.load(str(src)).graph.input[0].name
    blobs = calibration_blobs(calibration, src, max_side)

    class Reader(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            blob = next(blobs, None)
            return None if blob is None else {session_input: blob}

    with tempfile.TemporaryDirectory(prefix="facedet-int8-") as tmp:
        upgraded = Path(tmp) / "opset13.onnx"
        graph = onnx.load(str(src))
        if opset_of(graph) < 13:  # per-channel QDQ needs DequantizeLinear's axis (opset 13); older exports are upgraded
            from onnx import version_converter

            graph = version_converter.convert_version(graph, 13)
        onnx.save(graph, str(upgraded))
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        staged = Path(tmp) / "int8.onnx"
        keep_float = fine_convs(onnx.load(str(prepared)), float_stride) if float_stride > 1 else []
        quantize_static(str(prepared), str(staged), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=per_channel, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=keep_float)
        model = onnx.load(str(staged))
        meta = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
        del model.metadata_props[:]
        kind = ("int8-qdq-per-channel" if per_channel else "int8-qdq") + (f"-float-stride-{float_stride}"
                                                                             if keep_float else "")
        for key, value in {**meta, "facedet.quantized": kind}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        out.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(out))
    return out
