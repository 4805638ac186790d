"""Reference SCRFD pipeline in the style of insightface's ``SCRFD.detect`` (numpy + ONNX Runtime).

Written independently of facedet's own detection code so that it can check it: letterbox into a
640x640 black canvas (long side 640), ``cv2.dnn.blobFromImage(1/128, mean 127.5, swapRB)``,
per-stride centre grids (anchor-minor), threshold, distance decoding, +1-area greedy NMS at 0.4.
Used by ``benchmarks/reference_scrfd.py`` (WIDER AP side by side) and the speed benchmark.
"""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort


class ReferenceSCRFD:
    def __init__(self, onnx_path: str, threads: int = 1, thresh: float = 0.02, nms_thresh: float = 0.4):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
        self.inp = self.sess.get_inputs()[0].name
        self.nout = len(self.sess.get_outputs())
        self.thresh, self.nms_thresh = thresh, nms_thresh
        self.strides = [8, 16, 32]
        self.grid_cache: dict = {}

    def detect(self, img: np.ndarray, size: tuple[int, int] = (640, 640)):
        im_ratio = img.shape[0] / img.shape[1]
        model_ratio = size[1] / size[0]
        if im_ratio > model_ratio:
            nh = size[1]
            nw = int(nh / im_ratio)
        else:
            nw = size[0]
            nh = int(nw * im_ratio)
        det_scale = nh / img.shape[0]
        canvas = np.zeros((size[1], size[0], 3), np.uint8)
        canvas[:nh, :nw] = cv2.resize(img, (nw, nh))
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 128, size, (127.5, 127.5, 127.5), swapRB=True)
        outs = self.sess.run(None, {self.inp: blob})
        outs = [o[0] if o.ndim == 3 else o for o in outs]
        all_s, all_b = [], []
        for i, s in enumerate(self.strides):
            scores, dist = outs[i].reshape(-1), outs[i + 3] * s
            h, w = size[1] // s, size[0] // s
            key = (h, w, s)
            if key not in self.grid_cache:
                c = np.stack(np.mgrid[:h, :w][::-1], axis=-1).astype(np.float32).reshape(-1, 2) * s
                self.grid_cache[key] = np.stack([c] * 2, axis=1).reshape(-1, 2)
            c = self.grid_cache[key]
            k = np.where(scores >= self.thresh)[0]
            b = np.concatenate([c[k] - dist[k, :2], c[k] + dist[k, 2:]], axis=1)
            all_s.append(scores[k])
            all_b.append(b)
        scores = np.concatenate(all_s)
        boxes = np.concatenate(all_b) / det_scale
        order = scores.argsort()[::-1]
        boxes, scores = boxes[order], scores[order]
        keep = self._nms(boxes, scores)
        return boxes[keep], scores[keep]

    def _nms(self, b: np.ndarray, s: np.ndarray) -> list[int]:
        x1, y1, x2, y2 = b.T
        areas = (x2 - x1 + 1) * (y2 - y1 + 1)
        order = s.argsort()[::-1]
        keep = []
        while order.size:
            i = order[0]
            keep.append(i)
            xx1 = np.maximum(x1[i], x1[order[1:]])
            yy1 = np.maximum(y1[i], y1[order[1:]])
            xx2 = np.minimum(x2[i], x2[order[1:]])
            yy2 = np.minimum(y2[i], y2[order[1:]])
            inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
            ovr = inter / (areas[i] + areas[order[1:]] - inter)
            order = order[np.where(ovr <= self.nms_thresh)[0] + 1]
        return keep


