"""Build the ILC 2021 face-mask set (images + ``label.txt``) from a bare git mirror of its repository.

The set: web photos of people wearing, not wearing or badly wearing masks, often several per image and
turned, with one PASCAL-VOC xml per image (``annotations/<stem>.xml``; the classes ``with_mask``,
``without_mask`` and ``mask_weared_incorrect`` are all faces). The images and xml files are spread over
the repository's branches (``main`` and one ``contrib_*`` branch per contributing team, plus ``VALID``);
at the time of writing (``main`` at 1178de4) this script found 2,108 unique images, 2,107 of them with
boxes, 5,684 faces. The repository states **no licence**: use the images for research only and never
commit them (nor the folder this script writes) to this project.

Get the mirror with the project's search tool: ``fetch github:jolignier/face-mask-dataset-ilc-2021``
gives a bare git directory (the path it prints is MIRROR_GIT_DIR); a
``git clone --mirror https://github.com/jolignier/face-mask-dataset-ilc-2021`` is equivalent. The
packaged default model's stage 7-9 runs trained on the folder this script writes (as the "second
face-mask set"; see ``src/facedet/weights/MODEL_CARD.md``).

Rules (those of the throwaway script that first built the folder, whose output this reproduces):

- branches: ``refs/heads/main`` first, then the other ``refs/heads/*`` in sorted order; every ``*.jpg``,
  ``*.jpeg`` and ``*.png`` file of every branch is a candidate, and the first path seen for a blob wins.
  An xml file belongs to the image with the same file stem (the first xml seen for a stem wins).
- images: git-lfs pointers and files that are not JPEG or PNG by their magic bytes are skipped; images
  are deduplicated by the sha256 of their bytes and must decode (Pillow). Each unique decodable image is
  written as ``images/fmilc_<stem><ext>`` (``.jpg`` or ``.png`` by its format) or, when that name is
  taken (or the stem holds whitespace), ``images/fmilc_<sha256[:16]><ext>``; images without usable
  boxes are written too but not listed in ``label.txt``.
- boxes (``facedet.data.voc.parse_voc_xml``, every object a face, sizes as Pillow reads them, without
  EXIF rotation): where the xml's size differs from the image's but has the same aspect ratio (within
  0.02) the boxes are scaled to the image, otherwise the image is left out (counted). An image with an
  EXIF orientation other than 1 whose xml size differs is left out. Boxes are clipped to the image,
  boxes under 2 px wide or high are dropped, and an image with no box left is not listed.
- ``label.txt``: the ``xyxy`` layout of ``facedet.data.retinaface.format_label_txt``, relative paths, no
  image size on the ``#`` lines (as the original folder; a stated size would let ``data.min_short_side``
  drop small images that training used).

usage: python benchmarks/extract_facemask_ilc.py MIRROR_GIT_DIR OUT_DIR [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm import tqdm

from facedet.atomic import write_text_atomic
from facedet.data.errors import AnnotationError
from facedet.data.git_mirror import BlobReader, git_output
from facedet.data.records import ImageRecord
from facedet.data.retinaface import format_label_txt
from facedet.data.voc import parse_voc_xml

MAIN = "refs/heads/main"
PREFIX = "fmilc_"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
LFS_MAGIC = b"version https://git-lfs"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ASPECT_TOLERANCE = 0.02
MIN_SIDE = 2.0
EXIF_ORIENTATION = 274

# summary lines: (counter key, text)
SUMMARY = (
    ("written", "images written"),
    ("listed", "images listed in label.txt"),
    ("faces", "faces"),
    ("duplicates", "duplicates (same bytes under another path)"),
    ("lfs", "git-lfs pointers"),
    ("not_image", "not JPEG/PNG by magic bytes"),
    ("missing_blob", "blobs missing from the mirror"),
    ("undecodable", "undecodable"),
    ("no_xml", "no xml"),
    ("bad_xml", "unparsable xml"),
    ("size_mismatch", "size mismatch (other aspect ratio)"),
    ("rotated_mismatch", "EXIF-rotated with a size mismatch"),
    ("scaled", "scaled (xml size, same aspect ratio)"),
    ("no_boxes", "no box left"),
    ("dropped_boxes", "boxes dropped (under 2 px after clipping)"),
)


def branches(git_dir: Path) -> list[str]:
    """``refs/heads/main`` first, then the other branches in sorted order."""
    refs = git_output(git_dir, "for-each-ref", "--format=%(refname)", "refs/heads").decode().split()
    return sorted(refs, key=lambda r: (r != MAIN, r))


def tree_entries(git_dir: Path, refs: list[str]) -> Iterator[tuple[str, str]]:
    """``(blob id, path)`` of every file of every ref, in ref order, then ``git ls-tree`` order."""
    for ref in refs:
        for entry in git_output(git_dir, "ls-tree", "-r", "-z", ref).split(b"\0"):
            if not entry:
                continue
            meta, path = entry.split(b"\t", 1)
            _mode, kind, oid = meta.decode().split()
            if kind == "blob":
                yield oid, path.decode("utf-8", "surrogateescape")


def index_tree(entries: Iterator[tuple[str, str]]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Image blobs (first-seen order) with their distinct paths (the first is the one used), and the
    first xml blob per file stem."""
    images: dict[str, list[str]] = {}
    xmls: dict[str, str] = {}
    for oid, path in entries:
        p = PurePosixPath(path)
        suffix = p.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            paths = images.setdefault(oid, [])
            if path not in paths:
                paths.append(path)
        elif suffix == ".xml":
            xmls.setdefault(p.stem, oid)
    return images, xmls


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag (1 when absent or unreadable)."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block counts as no rotation, as in the original script
        return 1
    return 1 if value is None else int(value)


def fit_boxes(boxes: np.ndarray, scale: tuple[float, float], size: tuple[int, int],
              min_side: float = MIN_SIDE) -> np.ndarray:
    """``(N, 4)`` xyxy boxes scaled by ``(sx, sy)``, clipped to the ``(W, H)`` image, those under
    ``min_side`` wide or high dropped."""
    sx, sy = scale
    w, h = size
    b = np.clip(boxes.astype(np.float64) * (sx, sy, sx, sy), 0.0, (w, h, w, h))
    keep = ((b[:, 2:] - b[:, :2]) >= min_side).all(axis=1)
    return b[keep].astype(np.float32)


def xml_scale(xml_size: tuple[int, int] | None, size: tuple[int, int]) -> tuple[float, float] | None:
    """The box scale from the xml's stated size to the image's, or None when the aspect ratios differ."""
    if xml_size is None or xml_size == size:
        return 1.0, 1.0
    (xw, xh), (w, h) = xml_size, size
    if abs(xw / xh - w / h) >= ASPECT_TOLERANCE:
        return None
    return w / xw, h / xh


def extract(git_dir: str | Path, out_dir: str | Path, force: bool = False, progress: bool = False) -> Counter[str]:
    """Write ``out_dir/images`` and ``out_dir/label.txt`` from the mirror; returns the counts."""
    git_dir, out_dir = Path(git_dir), Path(out_dir)
    target = out_dir / "label.txt"
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; pass --force to replace it")
    images, xmls = index_tree(tree_entries(git_dir, branches(git_dir)))
    image_dir = out_dir / "images"
    image_dir.mkdir(parents=True, exist_ok=True)

    stats: Counter[str] = Counter()
    seen: set[str] = set()
    names: set[str] = set()
    records: list[ImageRecord] = []
    with BlobReader(git_dir) as blobs:
        for oid, paths in tqdm(images.items(), desc="fmilc", unit="img", file=sys.stderr, disable=not progress):
            data = blobs.read(oid)
            if data is None:
                stats["missing_blob"] += 1
                continue
            if data.startswith(LFS_MAGIC):
                stats["lfs"] += 1
                continue
            if not data.startswith((JPEG_MAGIC, PNG_MAGIC)):
                stats["not_image"] += 1
                continue
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                stats["duplicates"] += len(paths)
                continue
            try:
                image = Image.open(io.BytesIO(data))
                image.load()
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
                stats["undecodable"] += 1
                continue
            seen.add(digest)
            stats["duplicates"] += len(paths) - 1
            size = image.size
            ext = ".png" if image.format == "PNG" else ".jpg"
            stem = PurePosixPath(paths[0]).stem
            name = f"{PREFIX}{stem}{ext}"
            if name in names or any(c.isspace() for c in name):
                name = f"{PREFIX}{digest[:16]}{ext}"
            names.add(name)
            (image_dir / name).write_bytes(data)
            stats["written"] += 1

            xml_oid = xmls.get(stem)
            xml = blobs.read(xml_oid) if xml_oid is not None else None
            if xml is None:
                stats["no_xml"] += 1
                continue
            try:
                voc = parse_voc_xml(xml, f"{stem}.xml")
            except AnnotationError:
                stats["bad_xml"] += 1
                continue
            if exif_orientation(image) != 1 and voc.size != size:
                stats["rotated_mismatch"] += 1
                continue
            scale = xml_scale(voc.size, size)
            if scale is None:
                stats["size_mismatch"] += 1
                continue
            stats["scaled"] += int(scale != (1.0, 1.0))
            boxes = fit_boxes(voc.boxes, scale, size)
            stats["dropped_boxes"] += len(voc.boxes) - len(boxes)
            if len(boxes) == 0:
                stats["no_boxes"] += 1
                continue
            records.append(ImageRecord(path=name, boxes=boxes))
            stats["listed"] += 1
            stats["faces"] += len(boxes)
    write_text_atomic(target, format_label_txt(records))
    return stats


def format_summary(stats: Counter[str]) -> str:
    width = max(len(text) for _, text in SUMMARY)
    return "\n".join(f"{text:<{width}}  {stats[key]}" for key, text in SUMMARY)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mirror", help="bare git directory of jolignier/face-mask-dataset-ilc-2021")
    ap.add_argument("out", help="output folder (images/ and label.txt)")
    ap.add_argument("--force", action="store_true", help="write into a folder that already has label.txt")
    args = ap.parse_args(argv)
    try:
        stats = extract(args.mirror, args.out, force=args.force, progress=sys.stderr.isatty())
    except FileExistsError as exc:
        print(f"extract_facemask_ilc: {exc}", file=sys.stderr)
        return 2
    print(f"{Path(args.out) / 'label.txt'}:")
    print(format_summary(stats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
