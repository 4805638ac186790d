"""WIDER FACE val ground truth: reader and writer of the official evaluation ``.mat`` files.

The official evaluation ships four MATLAB files: ``wider_face_val.mat`` (boxes and labels) and
``wider_{easy,medium,hard}_val.mat`` (the same plus ``gt_list``, the 1-based indices of the faces kept
in that setting). Every variable is an ``n_events x 1`` cell, one entry per event
(spec ``eval_protocol.md`` §1.3). The reader keeps the file's event/image order, which is the order
MATLAB's evaluator walks; the writer produces files with the same structure (used by the synthetic
data generator and by the tests), which the reader reads back identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facedet.optional import require

SETTINGS: tuple[str, ...] = ("easy", "medium", "hard")
LABEL_VARS: tuple[str, ...] = (
    "blur_label_list",
    "expression_label_list",
    "illumination_label_list",
    "invalid_label_list",
    "occlusion_label_list",
    "pose_label_list",
)
FACE_FILE = "wider_face_val.mat"


def setting_file(setting: str) -> str:
    """File name of one setting's keep list, e.g. ``wider_hard_val.mat``."""
    return f"wider_{setting}_val.mat"


@dataclass
class GtImage:
    """One val image: event folder, image name (no ``.jpg``), boxes ``[x y w h]`` and keep lists.

    ``keep`` maps ``"easy"/"medium"/"hard"`` to the **1-based** indices of kept faces, as in ``gt_list``.
    """

    event: str
    name: str
    boxes_xywh: np.ndarray  # (k,4)
    invalid: np.ndarray  # (k,) bool
    keep: dict[str, np.ndarray]  # "easy"/"medium"/"hard" -> 1-based indices


@dataclass
class WiderGroundTruth:
    """All val images in the official order, with helpers for the evaluator."""

    images: list[GtImage]
    _flat: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.images)

    @property
    def keys(self) -> list[tuple[str, str]]:
        """``(event, name)`` of every image, in file order."""
        return [(im.event, im.name) for im in self.images]

    def keep_mask(self, index: int, setting: str) -> np.ndarray:
        """Boolean mask of kept faces of image ``index``; ``"all"`` = every face with invalid == 0."""
        im = self.images[index]
        k = len(im.boxes_xywh)
        if setting == "all":
            return ~np.asarray(im.invalid, dtype=bool)
        mask = np.zeros(k, dtype=bool)
        idx = np.asarray(im.keep[setting], dtype=np.int64).reshape(-1)
        mask[idx - 1] = True
        return mask

    def flat_keep(self, setting: str) -> np.ndarray:
        """Keep masks of all images concatenated in file order (cached; do not mutate ``images`` after)."""
        if setting not in self._flat:
            masks = [self.keep_mask(i, setting) for i in range(len(self.images))]
            self._flat[setting] = np.concatenate(masks + [np.zeros(0, dtype=bool)])
        return self._flat[setting]

    def num_faces(self, setting: str) -> int:
        """Number of faces that count in ``setting`` over every image (MATLAB's ``count_face``)."""
        return int(sum(self.keep_mask(i, setting).sum() for i in range(len(self.images))))


def _cell_str(x: object) -> str:
    """A MATLAB char array as loaded by scipy (``array(['name'])``) -> ``str``."""
    a = np.asarray(x)
    while a.dtype == object and a.size == 1:
        a = np.asarray(a.reshape(-1)[0])
    if a.size == 0:
        return ""
    return str(a.reshape(-1)[0])


def _events_files(mat: dict, path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        events = [_cell_str(e) for e in mat["event_list"].reshape(-1)]
        files = [[_cell_str(f) for f in np.asarray(fl).reshape(-1)] for fl in mat["file_list"].reshape(-1)]
    except KeyError as exc:
        raise ValueError(f"{path}: missing variable {exc}") from None
    if len(events) != len(files):
        raise ValueError(f"{path}: {len(events)} events but {len(files)} file lists")
    return events, files


def _per_image(mat: dict, var: str, path: Path, counts: list[int]) -> list[np.ndarray]:
    """Flatten a 2-level cell ``var{event}{image}`` into one array per image."""
    if var not in mat:
        raise ValueError(f"{path}: missing variable '{var}'")
    cells = mat[var].reshape(-1)
    if len(cells) != len(counts):
        raise ValueError(f"{path}: '{var}' has {len(cells)} events, expected {len(counts)}")
    out: list[np.ndarray] = []
    for e, (cell, n) in enumerate(zip(cells, counts, strict=True)):
        items = np.asarray(cell).reshape(-1)
        if len(items) != n:
            raise ValueError(f"{path}: '{var}' event {e + 1} has {len(items)} images, expected {n}")
        out.extend(np.asarray(it) for it in items)
    return out


def load_ground_truth(gt_dir: str | Path, settings: tuple[str, ...] = SETTINGS) -> WiderGroundTruth:
    """Read ``wider_face_val.mat`` and the setting files from ``gt_dir`` (2016 or 2017 versions).

    Boxes become float64 ``(k,4)``; ``keep`` holds 1-based int64 indices. ``gt_list`` may be uint8 or
    uint16 and empty as ``0x0`` or ``0x1``; the older field name ``ignore_list`` is accepted too.
    """
    gt_dir = Path(gt_dir)
    face_path = gt_dir / FACE_FILE
    if not face_path.is_file():
        raise FileNotFoundError(f"WIDER ground truth not found: {face_path}")
    sio = require("scipy.io", "eval", "reading the WIDER ground truth (.mat)")
    mat = sio.loadmat(face_path, variable_names=["event_list", "file_list", "face_bbx_list",
                                                   "invalid_label_list"])
    events, files = _events_files(mat, face_path)
    counts = [len(f) for f in files]
    boxes = _per_image(mat, "face_bbx_list", face_path, counts)
    invalid = _per_image(mat, "invalid_label_list", face_path, counts)
    keeps: dict[str, list[np.ndarray]] = {}
    for s in settings:
        p = gt_dir / setting_file(s)
        if not p.is_file():
            raise FileNotFoundError(f"WIDER ground truth not found: {p}")
        m = sio.loadmat(p, variable_names=["event_list", "file_list", "gt_list", "ignore_list"])
        ev_s, files_s = _events_files(m, p)
        if ev_s != events or files_s != files:
            raise ValueError(f"{p}: event/file lists differ from {face_path}")
        var = "gt_list" if "gt_list" in m else "ignore_list"
        keeps[s] = _per_image(m, var, p, counts)
    images: list[GtImage] = []
    i = 0
    for ev, names in zip(events, files, strict=True):
        for name in names:
            b = boxes[i].astype(np.float64).reshape(-1, 4) if boxes[i].size else np.zeros((0, 4))
            k = len(b)
            inv = invalid[i].reshape(-1).astype(bool) if invalid[i].size else np.zeros(0, dtype=bool)
            if len(inv) != k:
                raise ValueError(f"{face_path}: {ev}/{name}: {len(inv)} invalid labels for {k} boxes")
            keep = {}
            for s in settings:
                idx = keeps[s][i].reshape(-1).astype(np.int64)
                if idx.size and (idx.min() < 1 or idx.max() > k):
                    raise ValueError(f"{gt_dir / setting_file(s)}: {ev}/{name}: keep index out of 1..{k}")
                keep[s] = idx
            images.append(GtImage(ev, name, b, inv, keep))
            i += 1
    return WiderGroundTruth(images)


def _obj_col(items: list) -> np.ndarray:
    """An ``n x 1`` object array (a MATLAB column cell) holding ``items``."""
    arr = np.empty((len(items), 1), dtype=object)
    for i, it in enumerate(items):
        arr[i, 0] = it
    return arr


def _box_array(b: np.ndarray) -> np.ndarray:
    """int32 like the 2017 files when every coordinate is integral, else float64 (2016 style)."""
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    return b.astype(np.int32) if np.all(b == np.round(b)) else b


def _index_array(idx: np.ndarray) -> np.ndarray:
    """Column of 1-based indices: uint8, or uint16 when an index exceeds 255 (as in the official files)."""
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    dtype = np.uint8 if (idx.size == 0 or idx.max() <= 255) else np.uint16
    return idx.astype(dtype).reshape(-1, 1)


def write_ground_truth(gt_dir: str | Path, images: list[GtImage]) -> None:
    """Write the four official ``.mat`` files for ``images`` into ``gt_dir``.

    Events are grouped in order of first appearance (images of one event keep their order). Labels
    other than ``invalid`` are written as zeros. ``load_ground_truth`` reads the files back with the
    same events, names, boxes, invalid flags and keep lists.
    """
    gt_dir = Path(gt_dir)
    gt_dir.mkdir(parents=True, exist_ok=True)
    events: list[str] = []
    groups: dict[str, list[GtImage]] = {}
    for im in images:
        if im.event not in groups:
            events.append(im.event)
            groups[im.event] = []
        groups[im.event].append(im)
        k = len(np.asarray(im.boxes_xywh).reshape(-1, 4))
        if len(np.asarray(im.invalid).reshape(-1)) != k:
            raise ValueError(f"{im.event}/{im.name}: invalid has wrong length for {k} boxes")
        for s in SETTINGS:
            idx = np.asarray(im.keep.get(s, np.zeros(0)), dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < 1 or idx.max() > k):
                raise ValueError(f"{im.event}/{im.name}: keep['{s}'] out of 1..{k}")
    base: dict[str, np.ndarray] = {
        "event_list": _obj_col(events),
        "file_list": _obj_col([_obj_col([im.name for im in groups[e]]) for e in events]),
        "face_bbx_list": _obj_col(
            [_obj_col([_box_array(im.boxes_xywh) for im in groups[e]]) for e in events]
        ),
    }
    for var in LABEL_VARS:
        cols = []
        for e in events:
            per = []
            for im in groups[e]:
                k = len(np.asarray(im.boxes_xywh).reshape(-1, 4))
                lab = np.asarray(im.invalid, dtype=np.uint8) if var == "invalid_label_list" else np.zeros(k)
                per.append(lab.astype(np.uint8).reshape(-1, 1))
            cols.append(_obj_col(per))
        base[var] = _obj_col(cols)
    sio = require("scipy.io", "eval", "writing WIDER ground truth (.mat)")
    sio.savemat(gt_dir / FACE_FILE, base, do_compression=False)
    for s in SETTINGS:
        gl = _obj_col([_obj_col([_index_array(im.keep.get(s, np.zeros(0))) for im in groups[e]])
                       for e in events])
        sio.savemat(gt_dir / setting_file(s), {**base, "gt_list": gl}, do_compression=False)
