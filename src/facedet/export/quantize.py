"""INT8 static quantisation of a detector's ONNX file through ONNX Runtime.

QDQ format (QuantizeLinear/DequantizeLinear pairs that ONNX Runtime fuses into integer kernels),
per-channel int8 weights and uint8 activations (the U8S8 path that x86 VNNI runs fastest), activation
ranges calibrated (min/max) on real images put through the detector's own pre-processing. The
output keeps the input file's metadata, so ``FaceDetector(out, backend="onnx")`` decodes it exactly as
the float file. A file below opset 13 (insightface's exports) is upgraded first, since per-channel
QDQ needs it; ORT's pre-processing pass (shape inference, constant folding) runs next, as its
documentation advises for static quantisation.
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


def quantize_int8(onnx_path: str | Path, out_path: str | Path, calibration: Sequence[str | Path],
                  max_side: int = 640, per_channel: bool = True) -> Path:
    """Write the INT8 (QDQ) copy of ``onnx_path`` to ``out_path``, calibrated on the ``calibration`` images."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

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
        opset = max((o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")), default=13)
        if opset < 13:  # per-channel QDQ needs DequantizeLinear's axis (opset 13); older exports are upgraded
            from onnx import version_converter

            graph = version_converter.convert_version(graph, 13)
        onnx.save(graph, str(upgraded))
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(upgraded), str(prepared), skip_symbolic_shape=True)
        staged = Path(tmp) / "int8.onnx"
        quantize_static(str(prepared), str(staged), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=per_channel, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        model = onnx.load(str(staged))
        meta = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
        del model.metadata_props[:]
        for key, value in {**meta, "facedet.quantized": "int8-qdq-per-channel" if per_channel else "int8-qdq"}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        out.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(out))
    return out
