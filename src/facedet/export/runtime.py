"""ONNX Runtime session with explicit thread settings, returning outputs by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class OrtModel:
    """Thin wrapper over ``onnxruntime.InferenceSession`` for our exports.

    ``num_threads`` sets intra-op threads (inter-op is 1, sequential execution): benchmarks and
    servers should always set it. Layouts: SCRFD (6 or 9 outputs; ``__call__``) or ``raw``
    (``cls_i`` then ``reg_i`` per level, EXTD / Group Sampling; :meth:`run_raw`).
    """

    def __init__(self, path: str | Path, num_threads: int | None = None, providers: list[str] | None = None):
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such ONNX file")
        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # insightface's dynamic-size exports declare 640x640 output shapes: ORT would warn on every call
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=providers or ["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        outs = self.session.get_outputs()
        self.output_names = [o.name for o in outs]
        self.num_outputs = len(outs)
        self.has_kps = self.num_outputs == 9
        self.raw = bool(self.output_names) and all(n.startswith(("cls_", "reg_")) for n in self.output_names)
        if not self.raw and self.num_outputs not in (6, 9):
            raise ValueError(f"{path}: expected 6 or 9 outputs (SCRFD layout) or cls_i/reg_i outputs, "
                             f"found {self.num_outputs}")
        self.strides = (8, 16, 32)
        # Official files name outputs by number; ours by role. Order is the same: scores, boxes, kps.

    def __call__(self, blob: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray] | None]:
        """Run on a ``(B, 3, H, W)`` float32 blob; returns per-level (scores, boxes, kps) with a batch axis."""
        outs = self.session.run(None, {self.input_name: blob})
        b = blob.shape[0]
        outs = [o.reshape(b, -1, o.shape[-1]) if o.ndim == 2 or o.shape[0] != b else o for o in outs]
        scores, boxes = outs[0:3], outs[3:6]
        kps = outs[6:9] if self.has_kps else None
        return scores, boxes, kps

    def run_raw(self, blob: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Raw layout: per-level ``cls`` ``(B, N_l, C)`` and ``reg`` ``(B, N_l, 4)``."""
        if not self.raw:
            raise ValueError("run_raw needs an export with cls_i / reg_i outputs")
        outs = dict(zip(self.output_names, self.session.run(None, {self.input_name: blob}), strict=True))
        n = sum(1 for k in outs if k.startswith("cls_"))
        return [outs[f"cls_{i}"] for i in range(n)], [outs[f"reg_{i}"] for i in range(n)]
