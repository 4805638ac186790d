"""Face data sets: readers of WIDER FACE, RetinaFace/SCRFD ``label.txt``, PASCAL-VOC and Caltech WebFaces annotations,
one entry point that recognises any of them (:func:`load_dataset`), a synthetic WIDER-layout
generator and summary statistics. Every reader returns a :class:`RecordList` of
:class:`ImageRecord` and skips (and counts) images absent on disk.
"""

from __future__ import annotations

import os
from pathlib import Path

from facedet.data.errors import AnnotationError
from facedet.data.records import ImageRecord
from facedet.data.retinaface import load_label_txt, parse_label_txt
from facedet.data.stats import DatasetStats, RecordList, summarize
from facedet.data.voc import load_voc, parse_voc_xml
from facedet.data.webfaces import GT_NAME as WEBFACES_GT
from facedet.data.webfaces import load_webfaces
from facedet.data.wider import load_wider, load_wider_mat, load_wider_txt, parse_wider_txt, split_of

__all__ = [
    "AnnotationError", "DatasetStats", "ImageRecord", "RecordList", "detect_format", "load_dataset",
    "load_label_txt", "load_voc", "load_wider", "load_wider_mat", "load_wider_txt", "load_webfaces", "parse_label_txt",
    "parse_voc_xml", "parse_wider_txt", "summarize",
]

LABEL_NAMES = ("label.txt", "labelv2.txt")


def detect_format(path: str | os.PathLike, split: str = "train") -> tuple[str, Path]:
    """Say which reader ``path`` needs: ``("wider", root)``, ``("wider_txt", file)``, ``("wider_mat", file)``,
    ``("label", file)``, ``("voc", root)`` or ``("webfaces", root or file)``.

    Folders: a WIDER root has ``wider_face_split/``; a VOC root has ``annotations/``; a WebFaces
    folder holds ``WebFaces_GroundThruth.txt``; a RetinaFace
    folder holds ``label.txt``/``labelv2.txt`` directly or in ``<split>/`` or ``WIDER_<split>/``.
    Files: ``*_bbx_gt.txt``, ``*.mat``, or a ``.txt`` whose first line starts with ``#`` (label.txt).
    """
    p = Path(path)
    if p.is_dir():
        if (p / "wider_face_split").is_dir():
            return "wider", p
        if (p / "annotations").is_dir():
            return "voc", p
        if (p / WEBFACES_GT).is_file():
            return "webfaces", p
        for sub in ("", split, f"WIDER_{split}"):
            for name in LABEL_NAMES:
                if (p / sub / name).is_file():
                    return "label", p / sub / name
        raise ValueError(f"{p}: not a recognised data set folder (expected wider_face_split/, annotations/ "
                         f"or a label.txt)")
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file or folder")
    if p.suffix == ".mat":
        return "wider_mat", p
    if p.name == WEBFACES_GT:
        return "webfaces", p
    if p.name.endswith("_bbx_gt.txt"):
        return "wider_txt", p
    if p.suffix == ".txt":
        with p.open("rb") as f:
            head = f.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()  # a UTF-8 BOM is not content
        return ("label" if head.startswith(b"#") else "wider_txt"), p
    raise ValueError(f"{p}: not a recognised annotation file (bbx_gt.txt, .mat or label.txt)")


def _wider_image_root(p: Path, split: str) -> Path:
    try:
        split = split_of(p.name)
    except ValueError:
        pass
    return p.parent.parent / f"WIDER_{split}" / "images"


def load_dataset(path: str | os.PathLike, split: str = "train", box_format: str = "xyxy",
                 keep_missing: bool = False) -> RecordList:
    """Load any supported data set (see :func:`detect_format`) as records of the images present.

    ``split`` picks the WIDER split (and the RetinaFace sub-folder); a file whose name states its
    split uses that one. ``box_format`` applies to label.txt files (``"xyxy"`` SCRFD, ``"xywh"``
    original RetinaFace). ``keep_missing=True`` keeps records of absent images.
    """
    kind, p = detect_format(path, split)
    if kind == "wider":
        return load_wider(p, split, keep_missing=keep_missing)
    if kind == "voc":
        return load_voc(p, keep_missing=keep_missing)
    if kind == "webfaces":
        return load_webfaces(p, keep_missing=keep_missing)
    if kind == "label":
        return load_label_txt(p, box_format=box_format, keep_missing=keep_missing)
    if kind == "wider_mat":
        return load_wider_mat(p, _wider_image_root(p, split), keep_missing=keep_missing)
    return load_wider_txt(p, _wider_image_root(p, split), keep_missing=keep_missing)
