"""Build the AFW face-detection test set (images + ``label.txt``) from a bare git mirror that holds it.

AFW ("Annotated Faces in the Wild", Zhu & Ramanan, CVPR 2012): 205 Flickr images with 468 faces, many of
them in profile. It is a research test set: use it for evaluation only and never commit its images (nor
the folder this script writes) to this project. The project uses it as an out-of-domain check (e.g.
``benchmarks/eval_voc.py --labels``): no training image comes from it.

Get the mirror with the project's search tool: ``fetch github:RSinhoroto/AFWDataset`` gives a bare git
directory (the path it prints is MIRROR_GIT_DIR); a ``git clone --mirror
https://github.com/RSinhoroto/AFWDataset`` is equivalent. At the time of writing (``HEAD`` at 0e8e287) this
script writes and lists 205 images with 468 faces; nothing is clipped, dropped or deduplicated there.

The repository's layout: ``filenames.txt`` holds the image names separated by ``*``; ``faces.txt`` holds
one group per image, in the same order, groups separated by ``*``; a group is zero or more boxes written
``[x1 y1;x2 y2]`` in image pixels (ints or floats); the images are ``images/<name>``. A single ``*`` at
the end of either file ends its last entry (it does not open an empty one). Everything is read from one
revision (``--commit``, default ``HEAD``) with ``git cat-file``; no work tree is needed.

Rules:

- the number of names must equal the number of groups, otherwise the script stops with an error naming
  both counts; a name must be a plain file name (no ``/``, no whitespace);
- a group whose text does not parse stops the script with an error naming the image and the group's text;
- every image must exist at the revision, be JPEG or PNG by its magic bytes and decode with Pillow,
  otherwise the script stops with an error naming the file;
- images that are byte duplicates (sha256) of an earlier one are skipped with their boxes (the first
  wins) and counted;
- each image is written with its original bytes as ``images/afw_<name>``;
- boxes are clipped to the image (its size as Pillow reads it, without EXIF rotation); boxes under 2 px
  wide or high after clipping are dropped and counted; an image with no box left is written but not
  listed in ``label.txt``;
- ``label.txt``: the ``xyxy`` layout of ``facedet.data.retinaface.format_label_txt``, relative paths, no
  image size on the ``#`` lines;
- nothing is half-written: the folder is built in a temporary folder beside OUT_DIR and moved into place
  at the end; on an error OUT_DIR is left as it was. A non-empty OUT_DIR is refused unless ``--force``,
  which replaces its ``images/`` and ``label.txt`` (anything else in it is left alone).

usage: python benchmarks/extract_afw.py MIRROR_GIT_DIR OUT_DIR [--commit REV] [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from facedet.atomic import write_text_atomic
from facedet.data.git_mirror import BlobReader, GitMirrorError, git_output
from facedet.data.records import ImageRecord
from facedet.data.retinaface import format_label_txt

PREFIX = "afw_"
SEPARATOR = "*"
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIN_SIDE = 2.0

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
BOX_RE = re.compile(rf"\[\s*({_NUM})\s+({_NUM})\s*;\s*({_NUM})\s+({_NUM})\s*\]")
GROUP_RE = re.compile(rf"\s*(?:{BOX_RE.pattern}\s*)*")

# summary: (counter key, text)
SUMMARY = (
    ("written", "images written"),
    ("listed", "listed"),
    ("faces", "faces"),
    ("dropped_boxes", "boxes dropped (under 2 px after clipping)"),
    ("duplicates", "duplicates"),
)


class ExtractError(GitMirrorError):
    """The mirror's content breaks a rule of this script (see the module docstring)."""


def split_entries(text: str) -> list[str]:
    """``text`` split at ``*``; one ``*`` at the end (after trailing whitespace) closes the last entry."""
    text = text.rstrip()
    if text.endswith(SEPARATOR):
        text = text[:-1]
    return text.split(SEPARATOR) if text else []


def parse_group(text: str, name: str) -> np.ndarray:
    """The ``(N, 4)`` float64 xyxy boxes of one ``faces.txt`` group (``[x1 y1;x2 y2]`` repeated)."""
    if GROUP_RE.fullmatch(text) is None:
        raise ExtractError(f"faces.txt: the group of {name} does not parse: {text!r}")
    boxes = [[float(v) for v in m] for m in BOX_RE.findall(text)]
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def clip_boxes(boxes: np.ndarray, size: tuple[int, int], min_side: float = MIN_SIDE) -> np.ndarray:
    """``(N, 4)`` xyxy boxes clipped to the ``(W, H)`` image, those under ``min_side`` wide or high dropped."""
    w, h = size
    b = np.clip(boxes.astype(np.float64), 0.0, (w, h, w, h))
    keep = ((b[:, 2:] - b[:, :2]) >= min_side).all(axis=1)
    return b[keep].astype(np.float32)


def read_index(git_dir: Path, rev: str) -> tuple[str, list[tuple[str, str]]]:
    """The commit id of ``rev`` and its ``(name, group text)`` pairs, checked against the rules."""
    commit = git_output(git_dir, "rev-parse", "--verify", f"{rev}^{{commit}}").decode().strip()
    texts: dict[str, str] = {}
    for file in ("filenames.txt", "faces.txt"):
        try:
            texts[file] = git_output(git_dir, "cat-file", "blob", f"{commit}:{file}").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ExtractError(f"{file} at {commit[:7]} is not UTF-8: {exc}") from exc
    names = [n.strip() for n in split_entries(texts["filenames.txt"])]
    groups = split_entries(texts["faces.txt"])
    if len(names) != len(groups):
        raise ExtractError(f"filenames.txt has {len(names)} names but faces.txt has {len(groups)} groups "
                           f"(at {commit[:7]}); they must match one to one")
    for name in names:
        if not name or "/" in name or any(c.isspace() for c in name):
            raise ExtractError(f"filenames.txt: {name!r} is not a plain file name")
    return commit, list(zip(names, groups, strict=True))


def _decoded_size(data: bytes, name: str) -> tuple[int, int]:
    """Pillow's ``(W, H)`` of the image bytes (no EXIF rotation); an error unless JPEG/PNG and decodable."""
    if not data.startswith((JPEG_MAGIC, PNG_MAGIC)):
        raise ExtractError(f"images/{name} is not a JPEG or PNG file (magic bytes {data[:8]!r})")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ExtractError(f"images/{name} does not decode: {exc}") from exc


def _is_nonempty(out_dir: Path) -> bool:
    return out_dir.is_dir() and any(out_dir.iterdir())


def _stage(git_dir: Path, commit: str, entries: list[tuple[str, str]], stage: Path,
           progress: bool) -> Counter[str]:
    """Write ``stage/images`` and ``stage/label.txt``; returns the counts."""
    parsed = [(name, parse_group(text, name)) for name, text in entries]  # all groups parse before any write
    image_dir = stage / "images"
    image_dir.mkdir()
    stats: Counter[str] = Counter()
    seen: set[str] = set()
    records: list[ImageRecord] = []
    with BlobReader(git_dir) as blobs:
        for name, boxes in tqdm(parsed, desc="afw", unit="img", file=sys.stderr, disable=not progress):
            data = blobs.read(f"{commit}:images/{name}")
            if data is None:
                raise ExtractError(f"images/{name} is missing at {commit[:7]}")
            size = _decoded_size(data, name)
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                stats["duplicates"] += 1
                continue
            seen.add(digest)
            path = f"{PREFIX}{name}"
            (image_dir / path).write_bytes(data)
            stats["written"] += 1
            kept = clip_boxes(boxes, size)
            stats["dropped_boxes"] += len(boxes) - len(kept)
            if len(kept) == 0:
                continue
            records.append(ImageRecord(path=path, boxes=kept))
            stats["listed"] += 1
            stats["faces"] += len(kept)
    write_text_atomic(stage / "label.txt", format_label_txt(records))
    return stats


def extract(git_dir: str | Path, out_dir: str | Path, rev: str = "HEAD", force: bool = False,
            progress: bool = False) -> Counter[str]:
    """Write ``out_dir/images`` and ``out_dir/label.txt`` from the mirror at ``rev``; returns the counts.
    ``FileExistsError`` for a non-empty ``out_dir`` without ``force``; ``ExtractError`` for a broken rule
    and ``GitMirrorError`` (its base) for a failed git command; either way ``out_dir`` is left as it was."""
    git_dir, out_dir = Path(git_dir), Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a folder")
    if _is_nonempty(out_dir) and not force:
        raise FileExistsError(f"{out_dir} is not empty; pass --force to replace its images/ and label.txt")
    commit, entries = read_index(git_dir, rev)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        stats = _stage(git_dir, commit, entries, stage, progress)
        out_dir.mkdir(exist_ok=True)
        old_images = out_dir / "images"
        if old_images.exists() or old_images.is_symlink():
            os.rename(old_images, stage / "images.old")  # deleted with the stage below
        os.rename(stage / "images", out_dir / "images")
        os.replace(stage / "label.txt", out_dir / "label.txt")
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return stats


def format_summary(stats: Counter[str]) -> str:
    return ", ".join(f"{stats[key]} {text}" for key, text in SUMMARY)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mirror", help="bare git directory of RSinhoroto/AFWDataset")
    ap.add_argument("out", help="output folder (images/ and label.txt)")
    ap.add_argument("--commit", default="HEAD", help="revision of the mirror to read (default: HEAD)")
    ap.add_argument("--force", action="store_true", help="replace images/ and label.txt of a non-empty folder")
    args = ap.parse_args(argv)
    try:
        stats = extract(args.mirror, args.out, rev=args.commit, force=args.force, progress=sys.stderr.isatty())
    except (FileExistsError, GitMirrorError) as exc:
        print(f"extract_afw: {exc}", file=sys.stderr)
        return 2
    print(f"{Path(args.out) / 'label.txt'}: {format_summary(stats)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
