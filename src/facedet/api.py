"""``FaceDetector``: the one-line detection API over a torch model or an ONNX Runtime session."""

from __future__ import annotations

import logging
import shutil
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from . import checks
from .checks import choice, integer, number
from .export.runtime import OrtModel
from .families import family_named
from .io import ImageInput, iter_video_frames, read_image
from .models.detector import DetectorInfo
from .postprocess import Frame, PostProcessor, Settings
from .preprocess import Letterbox, normalize
from .types import Detections

if TYPE_CHECKING:
    import torch
    from torch import nn
else:
    from .lazy import torch

DEFAULT_MODEL = "scrfd_500m"


class FaceDetector:
    """Detect faces in images, batches and videos.

    ``model`` is a zoo name, a detector ``nn.Module`` (any family) or an ``.onnx`` path (a facedet
    export, decoded from its metadata, or an insightface SCRFD file).
    ``weights``: our checkpoint (.pt) or an official file for a zoo name; when None, the packaged
    weights of that preset are used if we ship them, otherwise the model stays randomly
    initialised and a warning says so. ``backend="onnx"`` runs ONNX Runtime (exporting a torch
    model to a temporary file first when needed); the family's post-processor decodes the outputs in
    numpy there and in torch otherwise. ``backend="auto"`` (the default) is ``"onnx"`` when
    ``model`` is an ``.onnx`` file and ``"torch"`` otherwise.

    Pre-processing: by default (``input_size=None``) each image keeps its aspect ratio, is scaled
    down so its long side is at most ``max_side`` (1024; None: never scaled) and padded to a multiple
    of 32, so a 640x480 photo runs as 640x480, not a 640x640 square, and a WIDER-sized 1024x768 photo
    at its own scale (the packaged model's Hard AP on dev-val-144: 0.31 at long side 640, 0.57 at
    1024; MODEL_CARD.md). The trainer validates the same way (``eval.max_size``).
    ``input_size=(W, H)`` letterboxes into a fixed canvas instead (insightface's 640x640), which is
    what static-shape exports need.

    ``device``: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    With ONNX Runtime it picks the execution providers (``providers=`` overrides; the ones in use
    are in ``.providers``); ``device="cuda"`` never falls back to CPU silently: it raises when the
    session cannot run on CUDA.

    ``max_faces`` keeps the N best faces by ``rank``: ``"score"``, ``"area"`` (largest), or
    ``"center"`` (insightface's metric: area minus twice the squared distance of the box centre from
    the image centre); ``min_face_size`` drops faces whose shorter box side is below it (pixels of
    the original image). Faces come back in descending score order either way.

    Threads: one detector may be shared by several threads; each thread keeps its own input buffer,
    and the torch module and the ONNX Runtime session both run concurrent calls safely.
    """

    def __init__(
        self,
        model: str | nn.Module | Path = DEFAULT_MODEL,
        weights: str | Path | None = None,
        backend: str = "auto",
        score_threshold: float = 0.5,
        nms_threshold: float = 0.4,
        input_size: tuple[int, int] | None = None,
        max_side: int | None = 1024,
        device: str | torch.device = "auto",
        num_threads: int | None = None,
        max_faces: int | None = None,
        clip: bool = True,
        rank: str = "score",
        min_face_size: float = 0.0,
        providers: list[str] | None = None,
    ):
        choice("backend", backend, ("auto", "torch", "onnx"))
        choice("rank", rank, RANKS)
        self.min_face_size = checks.number("min_face_size", min_face_size, 0.0)
        if max_faces is not None:
            integer("max_faces", max_faces)
        self.rank, self.max_faces = rank, max_faces
        if num_threads is not None:
            integer("num_threads", num_threads, minimum=0)  # 0: leave the library default
        if backend == "auto":
            backend = "onnx" if isinstance(model, (str, Path)) and str(model).endswith(".onnx") else "torch"
        self.backend = backend
        # the torch backend asks torch for CUDA; ONNX Runtime asks onnxruntime (a CPU torch + onnxruntime-gpu works)
        self.device = _torch_device(device) if backend == "torch" else _ort_device(device)
        if num_threads and backend == "torch":
            torch.set_num_threads(num_threads)
        self.ort: OrtModel | None = None
        self.model: nn.Module | None = None
        onnx_file = _onnx_path(model, weights)
        ort_providers = providers or ort_providers_for(self.device)
        wants_cuda = (self.device.type == "cuda" and str(device) != "auto") or any(
            (p[0] if isinstance(p, tuple) else p) == "CUDAExecutionProvider" for p in (providers or []))
        if backend == "onnx" and onnx_file is not None:
            self.ort = OrtModel(onnx_file, num_threads=num_threads, providers=ort_providers)
            info = self.ort.info
            _check_onnx_matches(model, onnx_file, info)
            fixed = self.ort.session.get_inputs()[0].shape[2:]
            if all(isinstance(v, int) for v in fixed):  # a static-shape export dictates the canvas
                static = (int(fixed[1]), int(fixed[0]))
                if input_size is not None and tuple(input_size) != static:
                    warnings.warn(f"{onnx_file} is a static-shape export: every image runs letterboxed into "
                                  f"{static[0]}x{static[1]}, not input_size={input_size}", stacklevel=2)
                elif input_size is None:  # the default: say so where logging is on (repr shows it too)
                    logging.getLogger(__name__).info("%s is a static-shape export: images run letterboxed into "
                                                     "%dx%d", onnx_file, *static)
                input_size = static
        else:
            where = cast("torch.device", self.device) if backend == "torch" else "cpu"
            self.model = resolve_model(model, weights).to(where).eval()
            info = DetectorInfo.of(self.model)
            if backend == "onnx":
                path = self._onnx_export(model, weights)
                self.ort = OrtModel(path, num_threads=num_threads, providers=ort_providers)
        if self.ort is not None and wants_cuda and "CUDAExecutionProvider" not in self.ort.session.get_providers():
            raise ValueError(f"device={str(device)!r}: ONNX Runtime cannot run this model on CUDA (providers in use: "
                             f"{self.ort.session.get_providers()}); install onnxruntime-gpu (pip install "
                             "'facedet[gpu]') or use device='cpu'")
        self.info = info
        self.family = family_named(info.family)
        self._local = threading.local()  # per-thread input buffer (see the class docstring)
        self.preprocess = Letterbox(input_size=input_size, max_side=max_side)
        self.mean, self.std, self.rgb = info.input_mean, info.input_std, info.input_rgb
        # ranking other than by score needs every face: the cap is applied after (see _select)
        # (and so does a size filter: the best face of those large enough, not the best face then a filter)
        cap_in_post = rank == "score" and not min_face_size
        self.settings = Settings(score_threshold, nms_threshold, max_faces if cap_in_post else None, clip)

    def _onnx_export(self, model: object, weights: object) -> Path:
        """The ONNX export of ``self.model`` for ONNX Runtime. For a zoo name with a weights file (given,
        or the packaged one) it is cached as ``<cache>/onnx/<preset>-<sha of the weights>-<version>.onnx``
        and reused by later detectors; a module passed in is exported to a temporary folder."""
        import tempfile

        from . import __version__, zoo
        from .atomic import atomic_open
        from .export.onnx import export_onnx
        from .pretrained import default_weights

        assert self.model is not None
        source = weights if isinstance(weights, (str, Path)) and Path(weights).is_file() else (
            default_weights(str(model)) if isinstance(model, str) and weights is None else None)
        if not isinstance(model, str) or source is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="facedet-onnx-")
            return export_onnx(self.model, Path(self._tmpdir.name) / "model.onnx")
        cached = zoo.default_cache_dir().parent / "onnx" / f"{model}-{zoo.sha256_file(source)[:16]}-{__version__}.onnx"
        if not cached.is_file():
            with tempfile.TemporaryDirectory(prefix="facedet-onnx-") as tmp:
                made = export_onnx(self.model, Path(tmp) / "model.onnx")
                with open(made, "rb") as src, atomic_open(cached) as dst:
                    shutil.copyfileobj(src, dst)
        return cached

    @property
    def providers(self) -> list[str] | None:
        """ONNX Runtime's execution providers in use (first = preferred), or None on the torch backend."""
        return list(self.ort.session.get_providers()) if self.ort is not None else None

    def __repr__(self) -> str:
        name = self.info.preset or self.info.family
        where = f"providers={self.providers}" if self.ort is not None else f"device='{self.device}'"
        size = "native" if self.preprocess.input_size is None else tuple(self.preprocess.input_size)
        cap = f", max_side={self.preprocess.max_side}" if self.preprocess.max_side else ""
        st = self.settings
        faces = f", max_faces={self.max_faces} by {self.rank}" if self.max_faces else ""
        return (f"FaceDetector({name!r}, backend={self.backend!r}, {where}, input_size={size}{cap}, "
                f"score_threshold={st.score_threshold}, nms_threshold={st.nms_threshold}{faces})")

    @property
    def settings(self) -> Settings:
        """The thresholds in use; assigning new ones rebuilds the family post-processor."""
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value
        self.post: PostProcessor = self.family.postprocess(self.info, value, self.model)

    @property
    def score_threshold(self) -> float:
        return self.settings.score_threshold

    @score_threshold.setter
    def score_threshold(self, value: float) -> None:
        self.settings = replace(self.settings, score_threshold=value)

    def detect(self, image: ImageInput, color: str = "bgr") -> Detections:
        """Faces in one image (path, bytes or uint8 array)."""
        return self.detect_batch([image], color=color)[0]

    def detect_batch(self, images: Sequence[ImageInput], color: str = "bgr", batch_size: int | None = None
                     ) -> list[Detections]:
        """Faces in several images; images whose canvases share a size run as one batch.

        ``batch_size`` bounds how many images are decoded and held at once (all of them when None):
        32 decoded 1080p frames with their canvases take over a gigabyte.
        """
        if batch_size is not None:
            integer("batch_size", batch_size)
            out: list[Detections] = []
            for start in range(0, len(images), batch_size):
                out += self.detect_batch(images[start : start + batch_size], color=color)
            return out
        arrays = [read_image(im, color) for im in images]
        prepared = [self.preprocess(a) for a in arrays]
        results: list[Detections | None] = [None] * len(arrays)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (canvas, _) in enumerate(prepared):
            groups.setdefault(canvas.shape[:2], []).append(i)
        batch_limit = 1 if self.ort is not None and self._ort_batch_is_fixed() else len(arrays)
        for hw, idxs in groups.items():
            for start in range(0, len(idxs), batch_limit):
                chunk = idxs[start : start + batch_limit]
                blob = normalize([prepared[i][0] for i in chunk], self.mean, self.std, self.rgb,
                                 out=getattr(self._local, "blob", None))
                self._local.blob = blob  # this thread's next call of the same size reuses it
                frames = [Frame(prepared[i][1], arrays[i].shape[:2], hw) for i in chunk]
                for i, d in zip(chunk, self._run(blob, frames), strict=True):
                    results[i] = self._select(d, arrays[i].shape[:2])
        return [r for r in results if r is not None]

    def detect_at(self, image: np.ndarray, shrink: float) -> np.ndarray:
        """One pass of a paper's multi-scale test: ``image`` (decoded, the detector's colour order) resized by
        ``shrink`` (``cv2.resize``, no ``max_side`` cap), padded to the divisor; rows ``x1 y1 x2 y2 score``
        ``(N, 5)`` in the ORIGINAL image's pixels, every face above the score threshold."""
        from .tta import resize_by

        number("shrink", shrink, 0.0, strict=True)
        if self.ort is not None and any(isinstance(d, int) for d in self.ort.session.get_inputs()[0].shape[2:]):
            raise ValueError("the multi-scale test resizes the input: export the ONNX file with dynamic height and "
                             "width (facedet export does by default)")
        img = resize_by(image, shrink)
        canvas, _ = Letterbox(None, None, self.preprocess.divisor, self.preprocess.pad_value)(img)
        blob = normalize([canvas], self.mean, self.std, self.rgb)
        (d,) = self._run(blob, [Frame(shrink, image.shape[:2], canvas.shape[:2])])
        return np.concatenate([d.boxes, d.scores[:, None]], axis=1).reshape(-1, 5)

    def detect_multiscale(self, image: ImageInput, color: str = "bgr") -> Detections:
        """Faces by the family's own test protocol (``Family.test_time``: S3FD / DSFD pyramids with box voting,
        SRN's multi-scale + flip, Group Sampling's pyramid), as the papers report their final numbers; several
        network passes per image. ValueError for a family without one (SCRFD: single scale)."""
        if self.family.test_time is None:
            raise ValueError(f"the {self.family.name} family has no multi-scale test protocol")
        arr = read_image(image, color)
        rows = self.family.test_time()(self.detect_at, arr)
        rows = rows[np.argsort(-rows[:, 4], kind="stable")] if len(rows) else rows.reshape(0, 5)
        dets = Detections(rows[:, :4].astype(np.float32), rows[:, 4].astype(np.float32))
        return self._select(dets, arr.shape[:2])

    def _select(self, dets: Detections, image_hw: tuple[int, int]) -> Detections:
        """``min_face_size`` and the ``max_faces`` cap by ``rank`` (score order kept)."""
        if self.min_face_size > 0 and len(dets):
            wh = dets.boxes[:, 2:] - dets.boxes[:, :2]
            dets = dets.select(np.minimum(wh[:, 0], wh[:, 1]) >= self.min_face_size)
        if self.max_faces is None or len(dets) <= self.max_faces:
            return dets
        if self.rank == "score":  # detections come sorted by score
            return dets.select(np.arange(self.max_faces))
        b = dets.boxes.astype(np.float64)
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        if self.rank == "area":
            value = area
        else:  # insightface's FaceAnalysis: area - 2 * squared offset of the box centre from the image centre
            h, w = image_hw
            offset = (b[:, :2] + b[:, 2:]) / 2 - np.array([w / 2, h / 2])
            value = area - 2.0 * (offset ** 2).sum(1)
        keep = np.sort(np.argsort(-value, kind="stable")[: self.max_faces])  # ascending index = score order
        return dets.select(keep)

    def detect_video(self, source: str | int, every: int = 1) -> Iterator[tuple[int, Detections]]:
        """``(frame_index, Detections)`` for every ``every``-th frame of a file or camera index."""
        for idx, frame in iter_video_frames(source, every=every):
            yield idx, self.detect(frame)

    def _ort_batch_is_fixed(self) -> bool:
        assert self.ort is not None
        return isinstance(self.ort.session.get_inputs()[0].shape[0], int)

    def _run(self, blob: np.ndarray, frames: list[Frame]) -> list[Detections]:
        if self.ort is not None:
            return self.post.numpy(self.ort.run(blob), frames)
        assert self.model is not None
        with torch.inference_mode():
            return self.post.torch(self.model(torch.from_numpy(blob).to(cast("torch.device", self.device))), frames)


RANKS = ("score", "area", "center")


@dataclass(frozen=True, eq=False)
class OrtDevice:
    """Where ONNX Runtime runs: ``type`` ("cpu" / "cuda") and ``index``, as ``torch.device`` has them,
    without needing torch (an ONNX Runtime install may have none). Equal to the ``torch.device`` or the
    string of the same name (``det.device == torch.device("cpu")`` holds on either backend)."""

    type: str
    index: int | None = None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OrtDevice | str) or (hasattr(other, "type") and hasattr(other, "index")):  # torch.device
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


def ort_providers_for(device: OrtDevice | torch.device) -> list[str]:
    """ONNX Runtime providers for ``device`` (from :func:`_ort_device`): CUDA first on a CUDA device, then CPU."""
    if device.type == "cuda":
        opts = {"device_id": device.index or 0}
        return [("CUDAExecutionProvider", opts), "CPUExecutionProvider"]  # type: ignore[list-item]
    return ["CPUExecutionProvider"]


def _ort_device(device: str | torch.device | OrtDevice) -> OrtDevice:
    """The device ONNX Runtime should run on: ``auto`` is CUDA when this onnxruntime has the CUDA provider."""
    if isinstance(device, OrtDevice):
        return device
    if not isinstance(device, str) and hasattr(device, "type") and hasattr(device, "index"):  # a torch.device
        return OrtDevice(str(device.type), device.index)
    name = checks.device("device", device)
    if name == "auto":
        import onnxruntime as ort

        return OrtDevice("cuda" if "CUDAExecutionProvider" in ort.get_available_providers() else "cpu")
    kind, _, index = name.partition(":")
    return OrtDevice(kind, int(index) if index else None)


def _torch_device(device: str | torch.device | OrtDevice) -> torch.device:
    """``torch.device`` with one-line errors: an unknown name, or CUDA asked for where there is none."""
    if isinstance(device, OrtDevice):
        device = str(device)
    if not isinstance(device, torch.device):
        choice_dev = checks.device("device", device)
        if choice_dev == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        device = torch.device(choice_dev)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r}: this torch has no CUDA device (torch {torch.__version__}); "
                         "use device='cpu'")
    return device


def _check_onnx_matches(model: object, onnx_file: Path, info: DetectorInfo) -> None:
    """A zoo name given with an ONNX file must describe that file: same family, and the same preset
    when the file records one (a facedet export)."""
    if not isinstance(model, str) or model.endswith(".onnx") or Path(model) == onnx_file:
        return
    from .families import family_of

    family = family_of(model)
    if family_named(info.family) is not family:
        raise ValueError(f"{onnx_file} holds a {info.family} detector, but model={model!r} is {family.name}; pass the "
                         "file alone (FaceDetector('file.onnx', backend='onnx')) or the matching preset")
    if info.preset and info.preset != model:
        raise ValueError(f"{onnx_file} is an export of {info.preset}, not {model}")


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

    if isinstance(model, torch.nn.Module):
        if weights is not None:
            zoo.load_state(model, weights)
        return model
    name = str(model)
    if weights == "official":
        return zoo.load_model(name, weights=None)
    if weights is None:
        weights = default_weights(name)
        if weights is None:
            src = zoo.entry(name).weights
            official = "'official' to download the published file, " if src is not None and src.url else ""
            warnings.warn(
                f"no trained weights are packaged for {name!r}: the model is randomly initialised; pass "
                f"weights=... ({official}a facedet .pt or an official file)",
                stacklevel=3,
            )
            return zoo.build_model(name)
    return zoo.load_model(name, weights=weights)
