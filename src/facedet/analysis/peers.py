"""Peer face detectors for side-by-side speed benchmarks: YuNet, Ultra-Light (ULFD) and Haar.

Each peer is a callable ``detect(bgr_image) -> (N, 5) array [x1 y1 x2 y2 score]`` including its own
pre- and post-processing, so end-to-end timings compare like with like.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..ops.nms import nms_np


def static_shape_copy(onnx_path: str | Path, w: int, h: int, out_dir: str | Path) -> Path:
    """Copy of a dynamic-shape ONNX file with input fixed to ``(1, 3, h, w)`` and shapes folded.

    OpenCV 4.x's DNN importer rejects YuNet's dynamic export (``Shape`` of a dynamic tensor); fixing
    the input and letting ONNX Runtime's basic optimiser constant-fold the shape ops gives a graph
    OpenCV loads. The weights are unchanged.
    """
    import onnx
    import onnxruntime as ort

    out = Path(out_dir) / f"{Path(onnx_path).stem}_{w}x{h}.onnx"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    model = onnx.load(str(onnx_path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, v in zip(dims, (1, 3, h, w), strict=True):
        dim.ClearField("dim_param")
        dim.dim_value = v
    fixed = out.with_suffix(".input.onnx")
    onnx.save(model, str(fixed))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(out)
    ort.InferenceSession(str(fixed), opts, providers=["CPUExecutionProvider"])
    fixed.unlink()
    return out


class YuNet:
    """libfacedetection's YuNet through OpenCV's ``cv2.FaceDetectorYN`` (score 0.6, NMS 0.3).

    A static-shape copy of the model is made per image size (see :func:`static_shape_copy`) in
    ``cache_dir`` (a temporary folder by default).
    """

    def __init__(self, onnx_path: str | Path, threads: int = 1, score: float = 0.6, nms: float = 0.3,
                 cache_dir: str | Path | None = None):
        import tempfile

        cv2.setNumThreads(threads)
        self.path, self.score, self.nms = Path(onnx_path), score, nms
        if cache_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="facedet-yunet-")
            cache_dir = self._tmp.name
        self.cache_dir = Path(cache_dir)
        self.dets: dict[tuple[int, int], cv2.FaceDetectorYN] = {}

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        det = self.dets.get((w, h))
        if det is None:
            # FaceDetectorYN pads its input to multiples of 32 before the network runs
            model = static_shape_copy(self.path, -(-w // 32) * 32, -(-h // 32) * 32, self.cache_dir)
            det = self.dets[(w, h)] = cv2.FaceDetectorYN.create(str(model), "", (w, h), self.score, self.nms, 5000)
        _, faces = det.detect(img)
        if faces is None:
            return np.zeros((0, 5), np.float32)
        b = faces[:, :4]
        return np.column_stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3], faces[:, 14]])


class UltraLight:
    """Ultra-Light-Fast-Generic-Face-Detector-1MB (RFB, 640x480 input) through ONNX Runtime.

    Its export outputs softmaxed ``scores (1, N, 2)`` and decoded corner ``boxes (1, N, 4)`` in
    [0, 1]; we resize to 640x480, normalise ``(x - 127) / 128`` RGB, threshold 0.7, NMS 0.3.
    """

    def __init__(self, onnx_path: str | Path, threads: int = 1, score: float = 0.7, nms: float = 0.3):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3  # the file lists initialisers as inputs; ORT warns once per tensor
        self.sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.name = self.sess.get_inputs()[0].name
        self.score, self.nms = score, nms

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        x = cv2.resize(img, (640, 480))[:, :, ::-1].astype(np.float32)
        x = ((x - 127.0) / 128.0).transpose(2, 0, 1)[None]
        scores, boxes = self.sess.run(None, {self.name: np.ascontiguousarray(x)})
        s = scores[0, :, 1]
        k = np.flatnonzero(s > self.score)
        b = boxes[0, k] * np.array([w, h, w, h], np.float32)
        keep = nms_np(b, s[k], self.nms)
        return np.column_stack([b[keep], s[k][keep]])


class Haar:
    """OpenCV's frontal-face Haar cascade (``detectMultiScale`` on the grey image; score = 1)."""

    @staticmethod
    def cascade_path() -> Path | None:
        """The frontal-face cascade shipped with this OpenCV, or None (OpenCV 5 and some builds lack it)."""
        data = getattr(cv2, "data", None)
        path = Path(data.haarcascades) / "haarcascade_frontalface_default.xml" if data is not None else None
        return path if path is not None and path.is_file() else None

    @classmethod
    def available(cls) -> bool:
        return cls.cascade_path() is not None and hasattr(cv2, "CascadeClassifier")

    def __init__(self, threads: int = 1):
        cv2.setNumThreads(threads)
        path = self.cascade_path()
        if path is None:
            raise ValueError("this OpenCV build ships no Haar cascade (haarcascade_frontalface_default.xml)")
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise ValueError(f"{path}: cannot load the Haar cascade")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        r = self.cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=3)
        if len(r) == 0:
            return np.zeros((0, 5), np.float32)
        r = np.asarray(r, np.float32)
        return np.column_stack([r[:, :2], r[:, :2] + r[:, 2:], np.ones(len(r), np.float32)])
