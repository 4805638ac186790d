"""ONNX Runtime session with explicit thread settings, returning outputs by name, and the description
that decodes them: a facedet export's metadata, or a family's recognition of a foreign file
(insightface's SCRFD exports, whose outputs are unnamed numbers)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..models.detector import DetectorInfo


class OrtModel:
    """Thin wrapper over ``onnxruntime.InferenceSession`` for detector files.

    ``num_threads`` sets intra-op threads (inter-op is 1, sequential execution): benchmarks and
    servers should always set it. ``fuse_heads`` merges sibling head convolutions in the graph handed
    to ONNX Runtime when its CPU provider comes first (:mod:`facedet.export.fuse`; the file is not
    changed). ``info`` says how to decode the outputs; ``run(blob)`` returns them by their canonical
    names (a batch axis restored when a file drops it).
    """

    def __init__(self, path: str | Path, num_threads: int | None = None, providers: list[str] | None = None,
                 fuse_heads: bool = True):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX file")
        self.path = path
        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # insightface's dynamic-size exports declare 640x640 output shapes: ORT would warn on every call
        opts.log_severity_level = 3
        self.fused = 0  # sibling groups merged by fuse_heads
        graph: str | bytes = str(path)
        first = (providers or ["CPUExecutionProvider"])[0]
        if fuse_heads and (first[0] if isinstance(first, tuple) else first) == "CPUExecutionProvider":
            graph = self._fused(path) or graph
        self.session = ort.InferenceSession(graph, opts, providers=providers or ["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.file_names = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map
        info = DetectorInfo.from_metadata(meta)
        if info is not None:
            self.info, self.output_names = info, list(self.file_names)
        else:
            self.info, self.output_names = _recognise(path, self.file_names)

    def _fused(self, path: Path) -> bytes | None:
        """The graph with its sibling convolutions merged, or None to load the file as it is: nothing to
        merge, or a file the pass cannot read (ONNX Runtime then reports it in its own words)."""
        import onnx

        from .fuse import fuse_sibling_convs

        try:
            proto = onnx.load(str(path))
            self.fused = fuse_sibling_convs(proto)
        except Exception as exc:  # e.g. not a protobuf: INVALID_PROTOBUF from ONNX Runtime below
            logging.getLogger(__name__).debug("%s: no head fusion (%s)", path, exc)
            self.fused = 0
            return None
        return proto.SerializeToString() if self.fused else None

    def run(self, blob: np.ndarray) -> dict[str, np.ndarray]:
        """Outputs of a ``(B, 3, H, W)`` float32 blob by canonical name, each ``(B, N, C)``."""
        outs = self.session.run(None, {self.input_name: blob})
        b = blob.shape[0]
        outs = [o.reshape(b, -1, o.shape[-1]) if o.ndim == 2 or o.shape[0] != b else o for o in outs]
        return dict(zip(self.output_names, outs, strict=True))


def _recognise(path: Path, names: list[str]) -> tuple[DetectorInfo, list[str]]:
    """A file without facedet metadata: the first family that recognises its outputs decodes it."""
    from ..families import FAMILIES

    for fam in FAMILIES.values():
        layout = fam.recognise_onnx(names) if fam.recognise_onnx is not None else None
        if layout is not None:
            return layout.info, list(layout.output_names)
    raise ValueError(f"{path}: no facedet metadata and no family recognises its {len(names)} outputs "
                     f"({', '.join(names[:6])}{', ...' if len(names) > 6 else ''}); re-export it with facedet export")
