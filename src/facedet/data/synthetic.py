"""Synthetic face data written in the official WIDER FACE layout, for tests, demos and smoke training.

Faces are skin-coloured ellipses with dark eyes, nose and mouth (so a small detector can learn
them) on cluttered backgrounds, at heights drawn log-uniformly from ``face_sizes`` (8..300 px by
default), without overlap. Some images have no face; some faces are ``invalid`` (heavily blurred,
low contrast: ignore regions). Valid faces get random blur / expression / illumination /
occlusion / pose attributes that are actually rendered. Files written under ``root``:

- ``WIDER_<split>/images/<event>/<name>.jpg``
- ``wider_face_split/wider_face_<split>_bbx_gt.txt`` (official 10 columns; a face-less image is
  written in the readme form ``0`` + one all-zero row)
- ``WIDER_<split>/label.txt``: the SCRFD ``labelv2`` layout (``# <event>/<name>.jpg W H``, then
  ``x1 y1 x2 y2`` + 5 x ``(x, y, 1.0)``, or 15 x ``-1`` when the face has no landmarks; invalid
  faces as ``x1 y1 x2 y2 1`` ignore lines). It sits beside ``images/`` as RetinaFace expects.
  Landmarks are annotated only on faces at least ``landmark_min_height`` px high (like the
  RetinaFace annotations, which skip tiny faces).
- for ``split="val"``: ``ground_truth/wider_{face,easy,medium,hard}_val.mat`` via
  :func:`facedet.eval.wider_gt.write_ground_truth`. Keep rule (documented choice): a face is kept in
  a setting when it is valid and its height is at least ``keep_min_height[setting]``
  (easy 32, medium 16, hard 11 px; hard mirrors the official "valid and h > 10"), so
  easy ⊂ medium ⊂ hard. Face-less images get one ``[0 0 0 0]`` placeholder box, as in the official files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from facedet.data.records import ImageRecord
from facedet.data.stats import RecordList

_SKIN = np.array([[95, 140, 200], [120, 165, 225], [80, 115, 170], [140, 180, 235], [60, 90, 140]], np.float64)


@dataclass(frozen=True)
class SyntheticConfig:
    """Settings of the generator; sizes in pixels, ``image_size`` is ``(W, H)``."""

    num_images: int = 50
    image_size: tuple[int, int] = (320, 320)
    face_sizes: tuple[float, float] = (8.0, 300.0)
    max_faces: int = 8
    empty_fraction: float = 0.1
    invalid_fraction: float = 0.08
    num_events: int = 3
    landmark_min_height: int = 16
    keep_min_height: dict[str, int] = field(default_factory=lambda: {"easy": 32, "medium": 16, "hard": 11})
    jpeg_quality: int = 90


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A smooth colour gradient with non-skin clutter shapes and mild noise."""
    corners = rng.uniform(20, 235, (2, 2, 3)).astype(np.float32)
    img: np.ndarray = np.asarray(cv2.resize(corners, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)
    for _ in range(int(rng.integers(2, 7))):
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3) * np.array([1.0, 0.6, 0.5]))  # bluish/greenish
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        s = int(rng.integers(4, max(5, min(w, h) // 3)))
        if rng.random() < 0.5:
            cv2.rectangle(img, (x, y), (x + s, y + int(rng.integers(2, s + 1))), colour, -1)
        else:
            cv2.circle(img, (x, y), s // 2, colour, -1)
    img += 6.0 * rng.standard_normal((h, w, 1), dtype=np.float32)
    return img


def _place(rng: np.random.Generator, n: int, w: int, h: int, sizes: tuple[float, float]) -> np.ndarray:
    """Up to ``n`` non-overlapping integer boxes ``x y w h`` with log-uniform heights."""
    placed: list[list[int]] = []
    hi = min(sizes[1], 0.95 * h, 0.95 * w * 1.4)
    lo = min(sizes[0], hi)
    for _ in range(n):
        for _try in range(20):
            fh = int(round(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            fw = max(int(round(fh / rng.uniform(1.1, 1.4))), 6)
            if fw >= w or fh >= h:
                continue
            x, y = int(rng.integers(0, w - fw)), int(rng.integers(0, h - fh))
            if all(x + fw <= a or a + c <= x or y + fh <= b or b + d <= y for a, b, c, d in placed):
                placed.append([x, y, fw, fh])
                break
    return np.asarray(placed, np.int64).reshape(-1, 4)


def _draw_face(img: np.ndarray, box: np.ndarray, attrs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render one face in ``box`` (x y w h) with ``attrs`` (6 WIDER columns); return (5, 2) landmarks."""
    x, y, w, h = (float(v) for v in box)
    blur, expression, illumination, invalid, occlusion, pose = (int(v) for v in attrs)
    skin = _SKIN[rng.integers(len(_SKIN))] + rng.uniform(-15, 15, 3)
    dark = tuple(float(v) for v in skin * rng.uniform(0.15, 0.3))
    shift = (0.12 if pose else 0.0) * w * (1 if rng.random() < 0.5 else -1)
    jit = rng.uniform(-0.03, 0.03, (5, 2)) * np.array([w, h])
    rel = np.array([[0.3, 0.38], [0.7, 0.38], [0.5, 0.58], [0.33, 0.78], [0.67, 0.78]])
    kps = np.array([x, y]) + rel * np.array([w, h]) + jit + np.array([shift, 0.0])
    if expression:
        kps[3:, 0] += np.array([-0.05, 0.05]) * w
    cx, cy = x + w / 2, y + h / 2
    cv2.ellipse(img, (int(round(cx)), int(round(cy))), (max(int(w / 2), 1), max(int(h / 2), 1)), 0, 0, 360,
                tuple(float(v) for v in skin), -1, cv2.LINE_AA)
    r_eye = max(int(round(0.07 * w)), 1)
    for k in (0, 1):
        cv2.circle(img, (int(round(kps[k, 0])), int(round(kps[k, 1]))), r_eye, dark, -1, cv2.LINE_AA)
    cv2.circle(img, (int(round(kps[2, 0])), int(round(kps[2, 1]))), max(r_eye // 2, 1),
               tuple(float(v) * 0.7 for v in skin), -1, cv2.LINE_AA)
    mouth_c = (int(round(kps[3:, 0].mean())), int(round(kps[3:, 1].mean())))
    mouth_ax = (max(int(round((kps[4, 0] - kps[3, 0]) / 2)), 1), max(int(round((0.1 if expression else 0.04) * h)), 1))
    cv2.ellipse(img, mouth_c, mouth_ax, 0, 0, 360, dark, -1, cv2.LINE_AA)
    x0, y0 = max(int(x), 0), max(int(y), 0)
    x1, y1 = min(int(np.ceil(x + w)), img.shape[1]), min(int(np.ceil(y + h)), img.shape[0])
    roi = img[y0:y1, x0:x1]
    if occlusion:
        top = int(roi.shape[0] * (0.65 if occlusion == 1 else 0.35))
        roi[top:] = rng.uniform(0, 255, 3) * np.array([1.0, 0.7, 0.4])
    if illumination:  # darken the face ellipse only
        mask = np.zeros(roi.shape[:2], np.uint8)
        cv2.ellipse(mask, (int(round(cx)) - x0, int(round(cy)) - y0), (max(int(w / 2), 1), max(int(h / 2), 1)),
                    0, 0, 360, 1, -1)
        roi[mask > 0] *= 0.45
    if blur or invalid:
        sigma = max(0.15 * w, 1.0) if invalid else (0.03 if blur == 1 else 0.07) * w + 0.5
        roi[:] = cv2.GaussianBlur(roi, (0, 0), sigma)
    if invalid:
        roi[:] = roi * 0.35 + roi.mean(axis=(0, 1)) * 0.65
    return kps


def _random_attrs(rng: np.random.Generator, invalid: bool) -> np.ndarray:
    """The 6 WIDER columns after ``x y w h``: blur expression illumination invalid occlusion pose."""
    if invalid:
        return np.array([2, 0, 0, 1, 0, 0], np.int64)
    return np.array([rng.choice(3, p=[0.6, 0.25, 0.15]), rng.random() < 0.15, rng.random() < 0.15, 0,
                     rng.choice(3, p=[0.75, 0.15, 0.1]), rng.random() < 0.15], np.int64)


def keep_lists(boxes_xywh: np.ndarray, invalid: np.ndarray, min_height: dict[str, int]) -> dict[str, np.ndarray]:
    """1-based indices of faces kept per setting: valid and height >= ``min_height[setting]``."""
    h = np.asarray(boxes_xywh, np.float64).reshape(-1, 4)[:, 3]
    ok = ~np.asarray(invalid, bool).reshape(-1)
    return {s: np.flatnonzero(ok & (h >= t)) + 1 for s, t in min_height.items()}


def write_synthetic_wider(root: str | os.PathLike, split: str = "train", config: SyntheticConfig | None = None,
                          seed: int | np.random.Generator = 0) -> RecordList:
    """Generate ``config.num_images`` images under ``root`` (layout in the module docstring).

    Returns the generated truth as records (image paths under ``root``; landmarks ``(N, 5, 2)`` with
    -1 where ``landmark_valid`` is False; attributes as the WIDER reader returns them). The same
    seed gives the same files.
    """
    cfg = config or SyntheticConfig()
    k = cfg.keep_min_height
    if not k.get("easy", 0) >= k.get("medium", 0) >= k.get("hard", 0):
        raise ValueError(f"keep_min_height must satisfy easy >= medium >= hard, got {k}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    r = Path(root)
    split_dir = r / f"WIDER_{split}"
    (r / "wider_face_split").mkdir(parents=True, exist_ok=True)
    w, h = cfg.image_size
    gt_lines: list[str] = []
    label_lines: list[str] = []
    records: list[ImageRecord] = []
    gt_images = []
    for i in range(cfg.num_images):
        e = i * cfg.num_events // max(cfg.num_images, 1)
        event, name = f"{e}--Synthetic", f"{e}_Synthetic_{split}_{i}"
        rel = f"{event}/{name}.jpg"
        n = 0 if rng.random() < cfg.empty_fraction else int(rng.integers(1, cfg.max_faces + 1))
        img = _background(rng, w, h)
        boxes = _place(rng, n, w, h, cfg.face_sizes)
        invalid = rng.random(len(boxes)) < cfg.invalid_fraction
        attrs = np.stack([_random_attrs(rng, bool(v)) for v in invalid]) if len(boxes) else np.zeros((0, 6), np.int64)
        kps = np.stack([_draw_face(img, b, a, rng) for b, a in zip(boxes, attrs, strict=True)]) \
            if len(boxes) else np.zeros((0, 5, 2))
        kps = np.round(kps, 1).astype(np.float32)
        has_kps = boxes[:, 3] >= cfg.landmark_min_height
        kps[~has_kps] = -1.0
        path = split_dir / "images" / event / f"{name}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        quality = [cv2.IMWRITE_JPEG_QUALITY, cfg.jpeg_quality]
        ok, buf = cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), quality)
        if not ok:  # pragma: no cover - OpenCV always encodes a uint8 BGR image
            raise RuntimeError(f"could not encode {path}")
        path.write_bytes(buf.tobytes())
        gt_lines += [rel, str(len(boxes))]
        gt_lines += [" ".join(str(int(v)) for v in np.concatenate([b, a])) for b, a in zip(boxes, attrs, strict=True)]
        if not len(boxes):
            gt_lines.append("0 0 0 0 0 0 0 0 0 0")
        label_lines.append(f"# {rel} {w} {h}")
        for b, v, p, hk in zip(boxes, invalid, kps, has_kps, strict=True):
            xyxy = f"{b[0]} {b[1]} {b[0] + b[2]} {b[1] + b[3]}"
            if v:
                label_lines.append(f"{xyxy} 1")
            elif hk:
                label_lines.append(xyxy + "".join(f" {px:.1f} {py:.1f} 1.0" for px, py in p))
            else:
                label_lines.append(xyxy + " -1" * 15)
        valid = ~invalid
        xyxy_all = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1).astype(np.float32)
        records.append(ImageRecord(
            path=str(path), boxes=xyxy_all[valid], ignore=xyxy_all[invalid], landmarks=kps[valid],
            landmark_valid=has_kps[valid],
            attributes={a: attrs[valid, c].astype(np.int32) for c, a in
                        enumerate(("blur", "expression", "illumination", "invalid", "occlusion", "pose"))},
            event=event, size=(w, h)))
        gt_images.append((event, name, boxes, invalid))
    (r / "wider_face_split" / f"wider_face_{split}_bbx_gt.txt").write_text("\n".join(gt_lines) + "\n")
    (split_dir / "label.txt").write_text("\n".join(label_lines) + "\n")
    if split == "val":
        _write_val_ground_truth(r / "ground_truth", gt_images, cfg.keep_min_height)
    return RecordList(records, source=str(r))


def _write_val_ground_truth(gt_dir: Path, images: list[tuple[str, str, np.ndarray, np.ndarray]],
                            min_height: dict[str, int]) -> None:
    """Official evaluation .mat files; face-less images get the official ``[0 0 0 0]`` placeholder."""
    from facedet.eval.wider_gt import GtImage, write_ground_truth

    gts = []
    for event, name, boxes, invalid in images:
        if not len(boxes):
            boxes, invalid = np.zeros((1, 4), np.int64), np.zeros(1, bool)
            keep = {s: np.zeros(0, np.int64) for s in min_height}
        else:
            keep = keep_lists(boxes, invalid, min_height)
        gts.append(GtImage(event=event, name=name, boxes_xywh=boxes.astype(np.float64), invalid=invalid, keep=keep))
    write_ground_truth(gt_dir, gts)
