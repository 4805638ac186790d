"""Image input: paths, bytes or arrays, with clear errors for bad input; video frames.

Encoded images are measured from their header before decoding and refused (``ValueError``) above
``MAX_IMAGE_PIXELS`` (default 2**27, 134 M pixels, about 400 MB once decoded; environment variable
``FACEDET_MAX_IMAGE_PIXELS``; issue 18 measured a 2.6 MB PNG that declares 30000 x 30000 taking 5.5 GB
and 26 s to decode). The header is read by Pillow's format readers, which know every common format;
for a file they cannot read, OpenCV's own limit (``OPENCV_IO_MAX_IMAGE_PIXELS``, set to the same
value unless already set) still applies.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .limits import pixel_limit_from_env

MAX_IMAGE_PIXELS = pixel_limit_from_env()
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))  # facedet/__init__ sets it first too
HEADER_BYTES = 1 << 20  # what Pillow is shown: every common format states its size well inside it

import cv2  # noqa: E402 - after the pixel limit reaches OpenCV's environment

ImageInput = str | os.PathLike | bytes | bytearray | memoryview | np.ndarray


def encoded_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """``(width, height)`` an encoded image declares in its header (read from its first
    ``HEADER_BYTES``), or None when Pillow cannot tell (OpenCV's own limit then applies).

    Pillow's format readers are asked directly, as ``Image.open`` asks them, so neither its own
    decompression-bomb check nor any process-wide setting is involved (safe from any thread)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return None
    arr = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
    head = arr.reshape(-1)[:HEADER_BYTES].tobytes()  # no copy of the whole file
    Image.init()
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is not None and not accept(head[:16]):
            continue
        try:
            im = factory(io.BytesIO(head), "")
        except Exception:  # noqa: BLE001 - not this format, or a header Pillow cannot read
            continue
        size = im.size
        im.close()
        return int(size[0]), int(size[1])
    return None


def check_pixels(width: int, height: int, what: str, limit: int | None = None) -> None:
    """Raise ``ValueError`` when ``width x height`` exceeds ``limit`` (default ``MAX_IMAGE_PIXELS``)."""
    limit = MAX_IMAGE_PIXELS if limit is None else limit
    if width * height > limit:
        raise ValueError(f"{what}: {width}x{height} = {width * height:,} pixels is over the limit of {limit:,} "
                         "(facedet.io.MAX_IMAGE_PIXELS / FACEDET_MAX_IMAGE_PIXELS)")


def _decode(buf: np.ndarray, what: str) -> np.ndarray:
    size = encoded_size(buf)
    if size is not None:
        check_pixels(*size, what)
    try:
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV's own size limit and decoder failures
        raise ValueError(f"{what}: OpenCV refused to decode it ({' '.join(str(exc).split())[-160:]})") from None
    if img is None:
        raise ValueError(f"{what}: not a decodable image (corrupt or unsupported format)")
    return img


def read_image(image: ImageInput, color: str = "bgr") -> np.ndarray:
    """Return a contiguous BGR ``uint8`` ``(H, W, 3)`` array.

    ``image`` is a path, encoded bytes or an array. ``color`` says the channel order of an array
    input (``"bgr"``, the OpenCV default, or ``"rgb"``). Grey ``(H, W)`` and BGRA arrays are
    converted. Anything else raises ``ValueError`` naming the problem.
    """
    if color not in ("bgr", "rgb"):
        raise ValueError(f"color must be 'bgr' or 'rgb', got {color!r}")
    if isinstance(image, (str, os.PathLike)):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such image file")
        data = path.read_bytes()
        if not data:
            raise ValueError(f"{path}: empty file")
        return _decode(np.frombuffer(data, np.uint8), str(path))
    if isinstance(image, (bytes, bytearray, memoryview)):
        if len(image) == 0:
            raise ValueError("image bytes are empty")
        return _decode(np.frombuffer(image, np.uint8), "image bytes")
    if isinstance(image, np.ndarray):
        return _from_array(image, color)
    raise ValueError(f"unsupported image input of type {type(image).__name__}: give a path, bytes or ndarray")


def _from_array(arr: np.ndarray, color: str) -> np.ndarray:
    if arr.dtype != np.uint8:
        raise ValueError(f"image array must be uint8, got {arr.dtype} (scale floats to 0..255 and cast)")
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"image array must be (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"image array is empty: shape {arr.shape}")
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGR if color == "rgb" else cv2.COLOR_BGRA2BGR)
    elif color == "rgb":
        arr = arr[:, :, ::-1]
    return np.ascontiguousarray(arr)


def video_fps(source: str | int, default: float = 25.0) -> float:
    """Frames per second a video file or camera reports (``default`` when it reports none)."""
    cap = cv2.VideoCapture(int(source) if isinstance(source, int) or str(source).isdigit() else str(source))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
    return fps if np.isfinite(fps) and 1.0 <= fps <= 1000.0 else default


def iter_video_frames(source: str | int, every: int = 1) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, BGR frame)`` from a video file or camera index, keeping every ``every``-th."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    if isinstance(source, bool) or (isinstance(source, int) and source < 0):
        raise ValueError(f"camera index must be an integer >= 0, got {source!r}")
    if isinstance(source, str) and not source.isdigit():  # checked before OpenCV's demuxers see it
        p = Path(source)
        if not p.exists():
            raise FileNotFoundError(f"{source}: no such video file")
        if not p.is_file():
            raise ValueError(f"{source}: not a regular file (a folder, device or pipe)")
        if p.stat().st_size == 0:
            raise ValueError(f"{source}: empty file")
    cap = cv2.VideoCapture(int(source) if isinstance(source, int) or source.isdigit() else source)
    if not cap.isOpened():
        raise ValueError(f"{source}: cannot open video")
    idx = 0
    try:
        while True:
            ok = cap.grab()
            if not ok:
                break
            if idx % every == 0:
                ok, frame = cap.retrieve()
                if not ok:
                    break
                yield idx, frame
            idx += 1
    finally:
        cap.release()
