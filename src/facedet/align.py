"""Aligned face crops from 5 landmarks: the similarity transform onto ArcFace's 112x112 template.

This is what face recognisers expect as input (insightface's ``norm_crop``): the least-squares
similarity (rotation, uniform scale, translation; Umeyama 1991) that maps the detected eye, nose and
mouth-corner points onto the template, then one ``cv2.warpAffine``. For another output size the
template is scaled as insightface scales it: by ``size / 112`` for multiples of 112, and by
``size / 128`` with an 8-pixel (scaled) left margin for multiples of 128; otherwise by ``size / 112``.
"""

from __future__ import annotations

import cv2
import numpy as np

# right eye, left eye (as seen in the image: the subject's), nose tip, right and left mouth corners
ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], np.float64)


def template(size: int = 112) -> np.ndarray:
    """The 5 template points for a ``size x size`` crop."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 16:
        raise ValueError(f"crop size must be an integer >= 16, got {size!r}")
    if size % 112 != 0 and size % 128 == 0:
        ratio = size / 128.0
        return ARCFACE_TEMPLATE * ratio + np.array([8.0 * ratio, 0.0])
    return ARCFACE_TEMPLATE * (size / 112.0)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The ``2 x 3`` similarity matrix mapping ``src`` points onto ``dst`` in least squares (Umeyama)."""
    src = np.asarray(src, np.float64).reshape(-1, 2)
    dst = np.asarray(dst, np.float64).reshape(-1, 2)
    if len(src) != len(dst) or len(src) < 2:
        raise ValueError(f"need two or more point pairs, got {len(src)} and {len(dst)}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:  # a reflection: flip the weakest axis
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    var = (s ** 2).sum() / len(src)
    if var <= 0:
        raise ValueError("the source points coincide: no transform")
    scale = float((sig * sign).sum() / var)
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - scale * rot @ mu_s
    return m


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """A ``size x size x 3`` uint8 crop of ``image`` (BGR uint8) aligned by the face's 5 ``landmarks``."""
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
            and min(image.shape[:2]) > 0):
        raise ValueError(f"align_face needs an (H, W, 3) uint8 image, got {getattr(image, 'shape', image)!r}")
    pts = np.asarray(landmarks, np.float64).reshape(-1, 2)
    if pts.shape != (5, 2) or not np.isfinite(pts).all():
        raise ValueError(f"align_face needs 5 finite (x, y) landmarks, got {pts.shape}")
    m = similarity_transform(pts, template(size))
    return cv2.warpAffine(image, m, (size, size), borderValue=0.0)
