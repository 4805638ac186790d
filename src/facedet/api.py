"""``FaceDetector``: the one-line detection API over a torch model or an ONNX Runtime session."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .io import ImageInput, iter_video_frames, read_image
from .postprocess import SCRFDPostProcessor
from .preprocess import Letterbox, normalize
from .priors import feat_sizes_for
from .types import Detections

DEFAULT_MODEL = "scrfd_500m"
# SCRFD preprocessing, used for ONNX files that carry no metadata (insightface's exports).
SCRFD_INPUT = {"mean": 127.5, "std": 128.0, "rgb": True}


class FaceDetector:
    """Detect faces in images, batches and videos.

    ``model`` is a zoo name, an ``nn.Module`` (SCRFD, EXTD or Group Sampling) or an SCRFD ``.onnx`` path.
    ``weights``: our checkpoint (.pt) or an official ONNX file for a zoo name; when None, the
    packaged weights of that preset are used if we ship them, otherwise the model stays randomly
    initialised and a warning says so. ``backend="onnx"`` runs ONNX Runtime (exporting a torch
    model to a cached file first when needed; EXTD and Group Sampling export raw logits and offsets,
    decoded in numpy). ``input_size=(W, H)`` letterboxes into a fixed
    canvas (insightface's default 640x640); ``None`` keeps each image's size (capped by
    ``max_side``) padded to a multiple of 32.
    """

    def __init__(
        self,
        model: str | nn.Module | Path = DEFAULT_MODEL,
        weights: str | Path | None = None,
        backend: str = "torch",
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
        input_size: tuple[int, int] | None = (640, 640),
        max_side: int | None = None,
        device: str | torch.device = "cpu",
        num_threads: int | None = None,
        max_faces: int | None = None,
        clip: bool = True,
    ):
        if backend not in ("torch", "onnx"):
            raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}")
        self.backend = backend
        self.device = torch.device(device)
        self.clip = clip
        if num_threads and backend == "torch":
            torch.set_num_threads(num_threads)
        self.ort = None
        self.model: nn.Module | None = None
        onnx_file = _onnx_path(model, weights)
        if backend == "onnx" and onnx_file is not None:
            from .export.runtime import OrtModel

            self.ort = OrtModel(onnx_file, num_threads=num_threads)
            if self.ort.raw:
                raise ValueError(f"{onnx_file}: raw cls/reg outputs (an EXTD or Group Sampling export) need their "
                                 "anchors: use FaceDetector(ZOO_NAME, weights=CHECKPOINT, backend='onnx')")
            strides, num_anchors, pre = self.ort.strides, 2, SCRFD_INPUT
            fixed = self.ort.session.get_inputs()[0].shape[2:]
            if all(isinstance(v, int) for v in fixed):  # a static-shape export dictates the canvas
                input_size = (int(fixed[1]), int(fixed[0]))
        else:
            self.model = resolve_model(model, weights).to(self.device).eval()
            strides, num_anchors = tuple(self.model.strides), int(self.model.num_anchors)
            pre = {"mean": self.model.input_mean, "std": self.model.input_std, "rgb": self.model.input_rgb}
            if backend == "onnx":
                import tempfile

                from .export.onnx import export_onnx
                from .export.runtime import OrtModel

                self._tmpdir = tempfile.TemporaryDirectory(prefix="facedet-onnx-")
                path = export_onnx(self.model, Path(self._tmpdir.name) / "model.onnx")
                self.ort = OrtModel(path, num_threads=num_threads)
        self._blob: np.ndarray | None = None
        self.preprocess = Letterbox(input_size=input_size, max_side=max_side)
        self.mean, self.std, self.rgb = pre["mean"], pre["std"], bool(pre["rgb"])
        self.family = "scrfd" if self.model is None else getattr(self.model, "family", "scrfd")
        self.post = SCRFDPostProcessor(
            strides=strides, num_anchors=num_anchors, score_threshold=score_threshold,
            nms_threshold=nms_threshold, max_faces=max_faces,
        )

    @property
    def score_threshold(self) -> float:
        return self.post.score_threshold

    @score_threshold.setter
    def score_threshold(self, value: float) -> None:
        self.post.score_threshold = value

    def detect(self, image: ImageInput, color: str = "bgr") -> Detections:
        """Faces in one image (path, bytes or uint8 array)."""
        return self.detect_batch([image], color=color)[0]

    def detect_batch(self, images: Sequence[ImageInput], color: str = "bgr") -> list[Detections]:
        """Faces in several images; images whose canvases share a size run as one batch."""
        arrays = [read_image(im, color) for im in images]
        prepared = [self.preprocess(a) for a in arrays]
        results: list[Detections | None] = [None] * len(arrays)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (canvas, _) in enumerate(prepared):
            groups.setdefault(canvas.shape[:2], []).append(i)
        batch_limit = 1 if self.ort is not None and self._ort_batch_is_fixed() else len(arrays)
        for idxs in groups.values():
            for start in range(0, len(idxs), batch_limit):
                chunk = idxs[start : start + batch_limit]
                blob = normalize([prepared[i][0] for i in chunk], self.mean, self.std, self.rgb, out=self._blob)
                self._blob = blob  # reused by the next call of the same size (ORT/torch copy their input)
                dets = self._run(blob, [prepared[i][1] for i in chunk], [arrays[i].shape[:2] for i in chunk])
                for i, d in zip(chunk, dets, strict=True):
                    results[i] = d
        return [r for r in results if r is not None]

    def detect_video(self, source: str | int, every: int = 1) -> Iterator[tuple[int, Detections]]:
        """``(frame_index, Detections)`` for every ``every``-th frame of a file or camera index."""
        for idx, frame in iter_video_frames(source, every=every):
            yield idx, self.detect(frame)

    def _ort_batch_is_fixed(self) -> bool:
        assert self.ort is not None
        return isinstance(self.ort.session.get_inputs()[0].shape[0], int)

    def _run(self, blob: np.ndarray, scales: list[float], shapes: list[tuple[int, int]]) -> list[Detections]:
        if self.ort is not None and self.family != "scrfd":
            return self._other_family_np(blob, scales, shapes)
        feat_sizes = feat_sizes_for(blob.shape[2:], self.post.strides)
        out: list[Detections] = []
        if self.ort is not None:
            scores, boxes, kps = self.ort(blob)
            for b, (scale, hw) in enumerate(zip(scales, shapes, strict=True)):
                k = None if kps is None else [x[b] for x in kps]
                out.append(self.post([x[b] for x in scores], [x[b] for x in boxes], k, feat_sizes, scale,
                                     hw if self.clip else None))
            return out
        assert self.model is not None
        with torch.inference_mode():
            res = self.model(torch.from_numpy(blob).to(self.device))
            if self.family != "scrfd":
                return self._other_family(res, scales, shapes)
            sig = [c.sigmoid() for c in res.cls]
            for b, (scale, hw) in enumerate(zip(scales, shapes, strict=True)):
                k = None if res.kps is None else [x[b] for x in res.kps]
                out.append(self.post.decode_torch([x[b] for x in sig], [x[b] for x in res.reg], k, res.feat_sizes,
                                                  scale, hw if self.clip else None))
        return out


    def _other_family(self, res, scales: list[float], shapes: list[tuple[int, int]]) -> list[Detections]:
        from .decoders import decode_family

        p = self.post
        decoded = decode_family(res, self.model, p.score_threshold, p.nms_threshold, p.max_faces)
        return [self._to_image(b, s, scale, hw) for (b, s), scale, hw in zip(decoded, scales, shapes, strict=True)]

    def _other_family_np(self, blob: np.ndarray, scales: list[float],
                         shapes: list[tuple[int, int]]) -> list[Detections]:
        """ONNX Runtime path of EXTD / Group Sampling: raw outputs decoded in numpy."""
        from .decoders import decode_family_np

        assert self.ort is not None and self.model is not None
        cls, reg = self.ort.run_raw(blob)
        feat_sizes = feat_sizes_for(blob.shape[2:], self.model.strides)
        p = self.post
        out = []
        for b, (scale, hw) in enumerate(zip(scales, shapes, strict=True)):
            boxes, scores = decode_family_np([c[b] for c in cls], [r[b] for r in reg], feat_sizes, self.model,
                                             p.score_threshold, p.nms_threshold, p.max_faces)
            out.append(self._to_image(boxes, scores, scale, hw))
        return out

    def _to_image(self, boxes: np.ndarray, scores: np.ndarray, scale: float, hw: tuple[int, int]) -> Detections:
        """Network-input boxes back to the original image (clipped when ``clip``)."""
        boxes = boxes / scale
        if self.clip:
            h, w = hw
            np.clip(boxes[:, 0::2], 0, w, out=boxes[:, 0::2])
            np.clip(boxes[:, 1::2], 0, h, out=boxes[:, 1::2])
        return Detections(boxes, scores)


def _onnx_path(model: object, weights: object) -> Path | None:
    for cand in (weights, model):
        if isinstance(cand, (str, Path)) and str(cand).endswith(".onnx"):
            return Path(cand)
    return None


def resolve_model(model: str | nn.Module | Path, weights: str | Path | None = None) -> nn.Module:
    """A torch model from a zoo name or module plus weights.

    ``weights``: a facedet ``.pt``, an official ``.onnx`` (imported), ``"official"`` (the zoo
    downloads the published file to its cache), or None: the weights facedet ships for that preset,
    else a randomly initialised model with a warning.
    """
    from . import zoo
    from .pretrained import default_weights

    if isinstance(model, nn.Module):
        if weights is not None:
            zoo.load_state(model, weights)
        return model
    name = str(model)
    if weights == "official":
        return zoo.load_model(name, weights=None)
    if weights is None:
        weights = default_weights(name)
        if weights is None:
            warnings.warn(
                f"no trained weights are packaged for {name!r}: the model is randomly initialised; pass "
                "weights=... (a facedet .pt, an official .onnx, or 'official' to download the published file)",
                stacklevel=3,
            )
            return zoo.build_model(name)
    return zoo.load_model(name, weights=weights)
