"""PASCAL-VOC xml annotations (``annotations/*.xml`` + ``images/``), e.g. the Kaggle face-mask set.

Every object is a face unless ``classes`` names the ones that are (the face-mask set's three classes
"with mask", "without mask", "mask worn incorrectly" are all faces). Coordinates are kept exactly
as written (no VOC 1-based shift: the WIDER reader applies none either). Per face the ``difficult``,
``truncated`` and ``occluded`` flags are kept as ``(N,)`` int32 ``attributes`` (0 when absent);
``difficult_as_ignore=True`` moves difficult faces to ``ignore`` instead. Boxes with
``x2 <= x1`` or ``y2 <= y1`` go to ``ignore`` as in the other readers.

Parsing uses expat directly so that every error names the xml file and the line of the element.
"""

from __future__ import annotations

import os
import re
import xml.parsers.expat
from pathlib import Path

import numpy as np

from facedet.data.errors import AnnotationError, check_path_text
from facedet.data.records import ImageRecord
from facedet.data.stats import RecordList, drop_missing

FLAGS = ("difficult", "truncated", "occluded")
_COORDS = ("xmin", "ymin", "xmax", "ymax")


def _collect(data: bytes, source: str) -> tuple[dict[str, tuple[str, int]], list[dict[str, tuple[str, int]]]]:
    """Run expat; return annotation-level fields and one dict per <object>, each value (text, line)."""
    parser = xml.parsers.expat.ParserCreate()
    stack: list[tuple[str, int, list[str]]] = []
    top: dict[str, tuple[str, int]] = {}
    objects: list[dict[str, tuple[str, int]]] = []

    def start(tag: str, _attrs: dict) -> None:
        line = parser.CurrentLineNumber
        if not stack and tag != "annotation":
            raise AnnotationError(source, line, f"root element must be <annotation>, got <{tag}>")
        if len(stack) == 1 and tag == "object":
            objects.append({"": ("", line)})
        stack.append((tag, line, []))

    def end(_tag: str) -> None:
        tag, line, parts = stack.pop()
        names = [s[0] for s in stack[1:]] + [tag]
        text = "".join(parts).strip()
        if objects and names[0] == "object" and (len(names) == 2 or names[1:-1] == ["bndbox"]):
            objects[-1][names[-1]] = (text, line)
        elif names in (["filename"], ["size", "width"], ["size", "height"]):
            top[names[-1]] = (text, line)

    def chars(text: str) -> None:
        if stack:
            stack[-1][2].append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise AnnotationError(source, exc.lineno, f"bad xml: {xml.parsers.expat.ErrorString(exc.code)}") from None
    return top, objects


def _number(field: tuple[str, int], name: str, source: str) -> float:
    text, line = field
    try:
        v = float(text)
    except ValueError:
        raise AnnotationError(source, line, f"<{name}> must be a number, got {text[:30]!r}") from None
    if not abs(v) < 1e9:
        raise AnnotationError(source, line, f"<{name}> is not finite or out of range: {text[:30]!r}")
    return v


def parse_voc_xml(data: bytes, source: str = "<xml>", image_dir: str | os.PathLike = "",
                  classes: tuple[str, ...] | None = None, difficult_as_ignore: bool = False) -> ImageRecord:
    """Parse one VOC xml document into a record (see the module docstring for the rules)."""
    if not data.strip():
        raise AnnotationError(source, 1, "empty annotation file")
    top, objects = _collect(data, source)
    if "filename" in top:
        name = check_path_text(top["filename"][0], source, top["filename"][1])
    else:
        name = Path(source).stem + ".jpg"
    size = None
    if "width" in top and "height" in top:
        w, h = _number(top["width"], "width", source), _number(top["height"], "height", source)
        size = (int(w), int(h)) if w > 0 and h > 0 else None
    boxes, flags, ignore_mask = [], [], []
    for obj in objects:
        line = obj[""][1]
        if classes is not None and obj.get("name", ("", 0))[0] not in classes:
            continue
        missing = [c for c in _COORDS if c not in obj]
        if missing:
            raise AnnotationError(source, line, f"<object> lacks bndbox fields {missing}")
        boxes.append([_number(obj[c], c, source) for c in _COORDS])
        f = []
        for flag in FLAGS:
            text, fline = obj.get(flag, ("0", line))
            if not (text.isascii() and text.isdigit() and len(text) < 9):
                raise AnnotationError(source, fline, f"<{flag}> must be a non-negative integer, got {text[:30]!r}")
            f.append(int(text))
        flags.append(f)
        ignore_mask.append(difficult_as_ignore and f[0] > 0)
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    fl = np.asarray(flags, np.int32).reshape(-1, len(FLAGS))
    degenerate = (b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1])
    ign = degenerate | np.asarray(ignore_mask, bool).reshape(-1)
    keep = ~ign
    return ImageRecord(
        path=os.path.join(os.fspath(image_dir), name) if os.fspath(image_dir) else name,
        boxes=b[keep],
        ignore=b[ign],
        attributes={flag: fl[keep, i] for i, flag in enumerate(FLAGS)},
        size=size,
    )


def _natural_key(p: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def load_voc(root: str | os.PathLike, annotations: str = "annotations", images: str = "images",
             classes: tuple[str, ...] | None = None, difficult_as_ignore: bool = False,
             keep_missing: bool = False) -> RecordList:
    """Read every ``root/annotations/*.xml`` (natural name order); images from ``root/images``.

    Records whose image is absent are skipped (counted in ``.skipped`` and logged).
    """
    r = Path(root)
    ann_dir = r / annotations
    if not ann_dir.is_dir():
        raise FileNotFoundError(f"{ann_dir}: no annotations folder")
    files = sorted(ann_dir.glob("*.xml"), key=_natural_key)
    if not files:
        raise ValueError(f"{ann_dir}: no .xml files")
    records = [parse_voc_xml(f.read_bytes(), str(f), r / images, classes, difficult_as_ignore) for f in files]
    return drop_missing(RecordList(records, source=str(r)), keep_missing)
