"""benchmarks/extract_afw.py on tiny bare git repositories: parsing, clipping, dropping, dedup, the written
label.txt and images, ``--commit``, and the refusals (which leave OUT_DIR as it was)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facedet.data.git_mirror import GitMirrorError
from tests.data.git_fixtures import blob, git, init_bare, load_script, mktree, set_branch

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not on PATH")


def _commit(git_dir: Path, branch: str, files: dict[str, bytes]) -> None:
    """Commit ``name`` / ``images/name -> bytes`` as the only commit of ``refs/heads/<branch>`` (plumbing)."""
    root: list[str] = []
    images: list[str] = []
    for path, data in files.items():
        oid = blob(git_dir, data)
        folder, _, name = path.rpartition("/")
        (images if folder == "images" else root).append(f"100644 blob {oid}\t{name}")
    if images:
        root.append(f"040000 tree {mktree(git_dir, images)}\timages")
    set_branch(git_dir, branch, mktree(git_dir, root))


def _repo(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A bare repository whose HEAD (``main``) holds ``files``."""
    git_dir = init_bare(tmp_path / "mirror.git")
    git(git_dir, "symbolic-ref", "HEAD", "refs/heads/main")
    _commit(git_dir, "main", files)
    return git_dir


def _image(w: int, h: int, fmt: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt)
    return buf.getvalue()


A = _image(40, 30, "JPEG", 0)
B = _image(20, 10, "PNG", 1)
C = _image(50, 40, "PNG", 2)
E = _image(30, 30, "PNG", 3)


def _afw(names: list[str], groups: list[str], images: dict[str, bytes]) -> dict[str, bytes]:
    """The repository files, ``*``-separated with a final ``*`` and newline as in the real one."""
    return {"filenames.txt": ("*".join(names) + "*\n").encode(), "faces.txt": ("*".join(groups) + "*\n").encode(),
            **{f"images/{n}": data for n, data in images.items()}}


def test_extract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git_dir = _repo(tmp_path, _afw(
        ["a.jpg", "b.png", "c.png", "d.jpg", "e.png"],
        [
            "[1 2;11 12][5.25 6.4;20.75 25.3]",  # a, 40x30: two boxes, float coordinates
            "",  # b: no box: written, not listed
            # c, 50x40: clipped to (0, 0, 30, 20); clipped to (45.5, 10, 50, 30), 4.5 px wide: kept;
            # clipped to (49, 5, 50, 15), 1 px wide: dropped; clipped to (10, 38.5, 20, 40), 1.5 px high: dropped
            "[-5 -3.5;30 20] [45.5 10;60 30][49 5;70 15][10 38.5;20 45]",
            "[0 0;10 10]",  # d: the bytes of a: skipped with its box
            "[29 0;40 10]",  # e, 30x30: clipped to 1 px wide, dropped: written, not listed
        ],
        {"a.jpg": A, "b.png": B, "c.png": C, "d.jpg": A, "e.png": E}))
    _commit(git_dir, "old", _afw(["a.jpg"], ["[0 0;5 5]"], {"a.jpg": A}))

    script = load_script("extract_afw")
    out = tmp_path / "out"
    stats = script.extract(git_dir, out)

    assert (out / "label.txt").read_text() == (
        "# afw_a.jpg\n"
        "1.00 2.00 11.00 12.00\n"
        "5.25 6.40 20.75 25.30\n"
        "# afw_c.png\n"
        "0.00 0.00 30.00 20.00\n"
        "45.50 10.00 50.00 30.00\n"
    )
    written = {p.name: p.read_bytes() for p in (out / "images").iterdir()}
    assert written == {"afw_a.jpg": A, "afw_b.png": B, "afw_c.png": C, "afw_e.png": E}
    assert sorted(p.name for p in out.iterdir()) == ["images", "label.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror.git", "out"]  # no staging folder left
    assert dict(stats) == {"written": 4, "listed": 2, "faces": 4, "dropped_boxes": 3, "duplicates": 1}

    # the non-empty folder: refused without --force; --force replaces images/ and label.txt only
    (out / "notes.txt").write_text("mine\n")
    assert script.main([str(git_dir), str(out)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert len(list((out / "images").iterdir())) == 4
    assert script.main([str(git_dir), str(out), "--commit", "old", "--force"]) == 0
    assert capsys.readouterr().out == (f"{out / 'label.txt'}: 1 images written, 1 listed, 1 faces, "
                                       "0 boxes dropped (under 2 px after clipping), 0 duplicates\n")
    assert (out / "label.txt").read_text() == "# afw_a.jpg\n0.00 0.00 5.00 5.00\n"
    assert [p.name for p in (out / "images").iterdir()] == ["afw_a.jpg"]
    assert (out / "notes.txt").read_text() == "mine\n"


@pytest.mark.parametrize(("files", "rev", "message"), [
    (_afw(["a.jpg", "c.png"], ["[1 1;9 9]", "", "[2 2;8 8]"], {"a.jpg": A, "c.png": C}), "HEAD",
     "filenames.txt has 2 names but faces.txt has 3 groups"),
    (_afw(["a.jpg", "c.png"], ["[1 1;9 9]", "[1 2;3]"], {"a.jpg": A, "c.png": C}), "HEAD",
     "the group of c.png does not parse: '[1 2;3]'"),
    (_afw(["a.jpg", "c.png"], ["[1 1;9 9]", "[1 1;x 9]"], {"a.jpg": A, "c.png": C}), "HEAD",
     "the group of c.png does not parse: '[1 1;x 9]'"),
    (_afw(["a.jpg", "x.jpg"], ["[1 1;9 9]", "[1 1;9 9]"], {"a.jpg": A, "x.jpg": b"not an image at all"}), "HEAD",
     "images/x.jpg is not a JPEG or PNG file"),
    (_afw(["a.jpg", "t.jpg"], ["[1 1;9 9]", ""], {"a.jpg": A, "t.jpg": A[:200]}), "HEAD",
     "images/t.jpg does not decode"),
    (_afw(["a.jpg", "m.jpg"], ["[1 1;9 9]", ""], {"a.jpg": A}), "HEAD", "images/m.jpg is missing"),
    (_afw(["a.jpg"], ["[1 1;9 9]"], {"a.jpg": A}), "nosuchrev", "rev-parse"),
], ids=["counts", "group", "number", "not-image", "truncated", "missing", "rev"])
def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, bytes], rev: str,
                  message: str) -> None:
    git_dir = _repo(tmp_path, files)
    script = load_script("extract_afw")
    out = tmp_path / "dest" / "out"
    out.mkdir(parents=True)  # an empty OUT_DIR is allowed; it stays empty after a refusal
    with pytest.raises(GitMirrorError) as info:
        script.extract(git_dir, out, rev=rev)
    assert message in str(info.value)
    assert script.main([str(git_dir), str(out), "--commit", rev]) == 2
    assert message in capsys.readouterr().err
    assert list(out.iterdir()) == []
    assert list(out.parent.iterdir()) == [out]  # no staging folder left beside it


def test_refuses_non_empty_out_dir(tmp_path: Path) -> None:
    git_dir = _repo(tmp_path, _afw(["a.jpg"], ["[1 1;9 9]"], {"a.jpg": A}))
    script = load_script("extract_afw")
    out = tmp_path / "out"
    (out / "images").mkdir(parents=True)
    (out / "images" / "old.jpg").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="not empty"):
        script.extract(git_dir, out)
    assert [p.relative_to(out).as_posix() for p in sorted(out.rglob("*"))] == ["images", "images/old.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror.git", "out"]
