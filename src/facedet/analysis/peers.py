"""Peer face detectors for side-by-side benchmarks: YuNet (OpenCV and ONNX Runtime), Ultra-Light (ULFD), Haar.

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


class YuNetORT:
    """YuNet (the dynamic-shape file) on ONNX Runtime, decoded as OpenCV's ``FaceDetectorYN`` decodes it.

    Pre-processing: the BGR image as float, unnormalised, padded bottom/right with zeros to a multiple
    of 32. Per stride s in (8, 16, 32) and grid cell (row r, column c): score = sqrt(clip(cls) *
    clip(obj)); centre ((c + dx) s, (r + dy) s), size (exp(dw) s, exp(dh) s). Then score threshold,
    NMS at ``nms`` IoU on the boxes truncated to integers (as OpenCV's ``Rect2i``), keep ``top_k``.
    Boxes equal OpenCV's to 1e-3 px (``tests/analysis/test_peers.py``).
    ``max_side`` downscales larger images first (None: native size, as OpenCV runs it).
    """

    STRIDES = (8, 16, 32)

    def __init__(self, onnx_path: str | Path, threads: int = 1, score: float = 0.6, nms: float = 0.3,
                 top_k: int = 5000, max_side: int | None = None):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        self.input = self.sess.get_inputs()[0].name
        self.names = [o.name for o in self.sess.get_outputs()]
        self.score, self.nms, self.top_k, self.max_side = score, nms, top_k, max_side

    def __call__(self, img: np.ndarray) -> np.ndarray:
        h0, w0 = img.shape[:2]
        scale = 1.0 if self.max_side is None else min(1.0, self.max_side / max(h0, w0))
        if scale < 1.0:
            img = cv2.resize(img, (max(1, round(w0 * scale)), max(1, round(h0 * scale))))
        h, w = img.shape[:2]
        ph, pw = -(-h // 32) * 32, -(-w // 32) * 32
        blob = np.zeros((1, 3, ph, pw), np.float32)
        blob[0, :, :h, :w] = img.transpose(2, 0, 1)
        out = dict(zip(self.names, self.sess.run(None, {self.input: blob}), strict=True))
        boxes, scores = [], []
        for s in self.STRIDES:
            cols = pw // s
            cls = np.clip(out[f"cls_{s}"][0, :, 0], 0, 1)
            obj = np.clip(out[f"obj_{s}"][0, :, 0], 0, 1)
            score = np.sqrt(cls * obj)
            keep = np.flatnonzero(score >= self.score)
            if not len(keep):
                continue
            bb = out[f"bbox_{s}"][0, keep]
            c, r = keep % cols, keep // cols
            cx, cy = (c + bb[:, 0]) * s, (r + bb[:, 1]) * s
            bw, bh = np.exp(bb[:, 2]) * s, np.exp(bb[:, 3]) * s
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1))
            scores.append(score[keep])
        if not boxes:
            return np.zeros((0, 5), np.float32)
        b, sc = np.concatenate(boxes), np.concatenate(scores)
        order = np.argsort(-sc, kind="stable")
        b, sc = b[order], sc[order]
        # OpenCV suppresses on integer Rect2i(x, y, w, h) boxes: the same rounding keeps the same faces
        xywh = np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], 1).astype(np.int32)
        keep = nms_np(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1), sc, self.nms)[: self.top_k]
        return np.column_stack([b[keep] / scale, sc[keep]]).astype(np.float32)


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
