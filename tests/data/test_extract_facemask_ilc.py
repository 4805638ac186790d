"""benchmarks/extract_facemask_ilc.py on a tiny bare git repository: branch order, dedup, naming, xml scaling,
skips and the written label.txt."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.data.git_fixtures import blob, init_bare, load_script, mktree, set_branch

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH")

LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n")


def _branch(git_dir: Path, branch: str, files: dict[str, bytes]) -> None:
    """Commit ``folder/name -> bytes`` as the only commit of ``refs/heads/<branch>`` (plumbing only)."""
    folders: dict[str, list[str]] = {}
    for path, data in files.items():
        folder, name = path.split("/")
        oid = blob(git_dir, data)
        folders.setdefault(folder, []).append(f"100644 blob {oid}\t{name}")
    root = [f"040000 tree {mktree(git_dir, lines)}\t{folder}" for folder, lines in folders.items()]
    set_branch(git_dir, branch, mktree(git_dir, root))


def _png(w: int, h: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return cv2.imencode(".png", pixels)[1].tobytes()


def _jpeg(w: int, h: int, orientation: int = 1) -> bytes:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[274] = orientation
    Image.new("RGB", (w, h), (90, 120, 150)).save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def _xml(size: tuple[int, int], boxes: list[tuple[float, float, float, float]]) -> bytes:
    classes = ("with_mask", "without_mask", "mask_weared_incorrect")
    objects = "".join(
        f"<object><name>{classes[i % 3]}</name><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax>"
        f"<ymax>{y2}</ymax></bndbox></object>" for i, (x1, y1, x2, y2) in enumerate(boxes))
    return (f"<annotation><filename>x.jpg</filename><size><width>{size[0]}</width><height>{size[1]}</height>"
            f"<depth>3</depth></size>{objects}</annotation>").encode()


def test_extract(tmp_path: Path) -> None:
    git_dir = init_bare(tmp_path / "mirror.git")
    a, b, c, d, f = _png(40, 30, 0), _jpeg(64, 48), _png(50, 50, 1), _png(20, 20, 2), _png(80, 60, 3)
    boxes_a = [(11, 10, 31, 30), (60, 40, 100, 70), (0, 0, 3, 3)]
    _branch(git_dir, "main", {
        "JPEGImages/a.png": a,  # 40x30, its xml says 80x60: boxes halved
        "JPEGImages/big.jpg": LFS_POINTER,
        "annotations/a.xml": _xml((80, 60), boxes_a),
    })
    # "alpha" sorts before "main": main must still come first (a.png, not a_copy.png, names image a)
    _branch(git_dir, "alpha", {
        "JPEGImages/a.png": a,  # the same path on another branch: no duplicate
        "JPEGImages/a_copy.png": a,  # a byte duplicate under another name
        "JPEGImages/b.jpg": b,
        "JPEGImages/c.png": c,  # 50x50 against an xml of 100x60: another aspect ratio
        "JPEGImages/d.png": d,  # no xml
        "JPEGImages/e.jpg": b"not an image at all",
        "JPEGImages/r.jpg": _jpeg(30, 20, orientation=6),  # EXIF-rotated, xml size differs
        "annotations/b.xml": _xml((64, 48), [(1, 2.5, 20, 30)]),
        "annotations/c.xml": _xml((100, 60), [(10, 10, 40, 40)]),
        "annotations/r.xml": _xml((20, 30), [(2, 2, 12, 12)]),
        "more/a.png": f,  # stem "a" again: fmilc_a.png is taken; a.xml (80x60) fits it unscaled
    })

    script = load_script("extract_facemask_ilc")
    out = tmp_path / "out"
    stats = script.extract(git_dir, out)

    sha_f = hashlib.sha256(f).hexdigest()[:16]
    assert (out / "label.txt").read_text() == (
        "# fmilc_a.png\n"
        "5.50 5.00 15.50 15.00\n"
        "30.00 20.00 40.00 30.00\n"  # (30, 20, 50, 35) clipped to 40x30; (0, 0, 1.5, 1.5) dropped
        "# fmilc_b.jpg\n"
        "1.00 2.50 20.00 30.00\n"
        f"# fmilc_{sha_f}.png\n"
        "11.00 10.00 31.00 30.00\n"
        "60.00 40.00 80.00 60.00\n"
        "0.00 0.00 3.00 3.00\n"
    )
    written = {p.name: p.read_bytes() for p in (out / "images").iterdir()}
    assert sorted(written) == sorted(["fmilc_a.png", "fmilc_b.jpg", "fmilc_c.png", "fmilc_d.png", "fmilc_r.jpg",
                                      f"fmilc_{sha_f}.png"])
    assert written["fmilc_a.png"] == a and written[f"fmilc_{sha_f}.png"] == f
    expected = {"written": 6, "listed": 3, "faces": 6, "duplicates": 1, "lfs": 1, "not_image": 1, "no_xml": 1,
                "size_mismatch": 1, "rotated_mismatch": 1, "scaled": 1, "dropped_boxes": 1}
    assert {k: v for k, v in stats.items() if v} == expected

    # label.txt present: refused without --force, replaced with it
    with pytest.raises(FileExistsError):
        script.extract(git_dir, out)
    assert script.main([str(git_dir), str(out)]) == 2
    (out / "label.txt").write_text("stale\n")
    assert script.main([str(git_dir), str(out), "--force"]) == 0
    assert (out / "label.txt").read_text().startswith("# fmilc_a.png\n5.50 5.00")
