"""WIDER FACE readers: hand-written bbx_gt.txt files, .mat files, error messages, real-data counts."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from facedet.data.wider import load_wider, load_wider_mat, load_wider_txt, parse_wider_txt
from tests.conftest import shared_path

GT = """\
0--Parade/0_Parade_a.jpg
2
10 20 30 40 1 0 1 0 2 0
5 5 10 10 0 1 0 1 0 1
0--Parade/0_Parade_empty.jpg
0
0 0 0 0 0 0 0 0 0 0
1--Handshaking/1_Hand_b.jpg
1
0 0 0 0 0 0 0 0 0 0
1--Handshaking/1_Hand_c.jpg
3
100 100 0 12 0 0 0 0 0 0
-3 7 20 25 2 1 1 0 1 1
50 60 8 9 0 0 0 1 0 0
1--Handshaking/1_Hand_last.jpg
0
"""


def test_boxes_ignore_and_attributes() -> None:
    recs = parse_wider_txt(GT, "gt.txt", "/img")
    assert [r.name for r in recs] == ["0_Parade_a", "0_Parade_empty", "1_Hand_b", "1_Hand_c", "1_Hand_last"]
    a = recs[0]
    assert a.path == "/img/0--Parade/0_Parade_a.jpg" and a.event == "0--Parade"
    np.testing.assert_array_equal(a.boxes, [[10, 20, 40, 60]])  # x2 = x + w, y2 = y + h
    np.testing.assert_array_equal(a.ignore, [[5, 5, 15, 15]])  # invalid == 1
    assert a.boxes.dtype == np.float32
    assert {k: v.tolist() for k, v in a.attributes.items()} == {
        "blur": [1], "expression": [0], "illumination": [1], "invalid": [0], "occlusion": [2], "pose": [0]}


def test_zero_face_forms_yield_no_faces() -> None:
    recs = parse_wider_txt(GT, "gt.txt")
    for r in (recs[1], recs[2], recs[4]):  # count 0 + row, count 1 + zero row, count 0 at end of file
        assert r.boxes.shape == (0, 4) and r.ignore.shape == (0, 4)
        assert all(len(v) == 0 for v in r.attributes.values())
    assert recs.notes["placeholder_rows"] == 2
    assert recs.listed == 5


def test_degenerate_box_goes_to_ignore() -> None:
    c = parse_wider_txt(GT, "gt.txt")[3]
    np.testing.assert_array_equal(c.boxes, [[-3, 7, 17, 32]])
    np.testing.assert_array_equal(c.ignore, [[100, 100, 100, 112], [50, 60, 58, 69]])
    assert c.attributes["pose"].tolist() == [1]


def _lines(text: str) -> list[str]:
    return text.splitlines()


@pytest.mark.parametrize("edit, message", [
    (lambda L: L[:14] + ["1 2 3"] + L[15:], r"wider_face_train_bbx_gt\.txt:15: expected 10 integers, got 3"),
    (lambda L: L[:2] + ["10 20 30 forty 1 0 1 0 2 0"] + L[3:], r":3: expected 10 integers, got non-integer"),
    (lambda L: L[:2] + ["10 20 30 40 1 0 1 0 2 0 7"] + L[3:], r":3: expected 10 integers, got 11"),
    (lambda L: L[:1] + ["-2"] + L[2:], r":2: negative face count -2"),
    (lambda L: L[:1] + ["two"] + L[2:], r":2: expected a face count"),
    (lambda L: L[:1] + ["5"] + L[2:], r":5: expected 10 integers, got .*declares 5 faces; this is row 3"),
    (lambda L: L[:11] + ["5"] + L[12:15], r":16: truncated: image '1--Handshaking/1_Hand_c.jpg' declares 5 faces, "
                                          r"file ends after 3 rows"),
    (lambda L: L[:6] + ["1 0 0 0 0 0 0 0 0 0"] + L[7:], r":7: a face count of 0 must be followed by the all-zero"),
    (lambda L: L[:3] + ["5 5 10 10 0 1 0 2 0 1"] + L[4:], r":4: invalid flag must be 0 or 1, got 2"),
    (lambda L: L[:3] + ["5 5 10 10 0 1 0 99999999999 0 1"] + L[4:], r":4: value out of range"),
    (lambda L: ["7"] + L[1:], r":1: expected an image path"),
    (lambda L: L[:16], r":17: truncated: image '1--Handshaking/1_Hand_last.jpg' has no face-count line"),
])
def test_malformed_input_names_file_and_line(edit, message: str) -> None:
    text = "\n".join(edit(_lines(GT))) + "\n"
    with pytest.raises(ValueError, match=message):
        parse_wider_txt(text, "wider_face_train_bbx_gt.txt")


def test_empty_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"gt\.txt:1: empty annotation file"):
        parse_wider_txt("\n  \n", "gt.txt")
    bad = tmp_path / "wider_face_train_bbx_gt.txt"
    bad.write_bytes(b"0--Parade/a.jpg\n1\n\xff\xfe 1 2\n")
    with pytest.raises(ValueError, match=r"bbx_gt\.txt:3: not UTF-8"):
        load_wider_txt(bad, tmp_path)


def test_blank_lines_and_crlf_keep_line_numbers() -> None:
    text = "a/x.jpg\r\n\r\n1\r\n1 2 3\r\n"
    with pytest.raises(ValueError, match=r"g:4: expected 10 integers, got 3"):
        parse_wider_txt(text, "g")
    recs = parse_wider_txt("a/x.jpg\r\n\r\n1\r\n1 2 3 4 0 0 0 0 0 0\r\n", "g")
    np.testing.assert_array_equal(recs[0].boxes, [[1, 2, 4, 6]])


def _make_root(tmp: Path, present: list[str]) -> Path:
    split = tmp / "wider_face_split"
    split.mkdir()
    (split / "wider_face_train_bbx_gt.txt").write_text(GT)
    for rel in present:
        p = tmp / "WIDER_train" / "images" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"jpg")
    return tmp


def test_partial_download_skips_absent_images(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = _make_root(tmp_path, ["0--Parade/0_Parade_a.jpg", "1--Handshaking/1_Hand_c.jpg"])
    with caplog.at_level(logging.WARNING, logger="facedet.data"):
        recs = load_wider(root, "train")
    assert [r.name for r in recs] == ["0_Parade_a", "1_Hand_c"]
    assert (recs.listed, recs.skipped) == (5, 3)
    assert "3 of 5 listed images are absent" in caplog.text
    every = load_wider(root, "train", keep_missing=True)
    assert len(every) == 5 and every.skipped == 0


def _cells(items: list) -> np.ndarray:
    out = np.empty((len(items), 1), dtype=object)
    for i, it in enumerate(items):
        out[i, 0] = it
    return out


def test_mat_reader_matches_text_reader(tmp_path: Path) -> None:
    """A hand-built official-structure .mat of the same annotations reads back like the text file."""
    txt = parse_wider_txt(GT, "gt.txt", tmp_path)
    events = {"0--Parade": [0, 1], "1--Handshaking": [2, 3, 4]}
    rows = {0: [[10, 20, 30, 40, 1, 0, 1, 0, 2, 0], [5, 5, 10, 10, 0, 1, 0, 1, 0, 1]], 1: [[0] * 10],
            2: [[0] * 10], 3: [[100, 100, 0, 12, 0, 0, 0, 0, 0, 0], [-3, 7, 20, 25, 2, 1, 1, 0, 1, 1],
                               [50, 60, 8, 9, 0, 0, 0, 1, 0, 0]], 4: [[0] * 10]}
    names = ["blur", "expression", "illumination", "invalid", "occlusion", "pose"]
    mat = {"event_list": _cells(list(events)),
           "file_list": _cells([_cells([txt[i].name for i in ids]) for ids in events.values()]),
           "face_bbx_list": _cells([_cells([np.array(rows[i], np.int32)[:, :4] for i in ids])
                                    for ids in events.values()])}
    for c, n in enumerate(names):
        mat[f"{n}_label_list"] = _cells([_cells([np.array(rows[i])[:, 4 + c:5 + c].astype(np.uint8) for i in ids])
                                         for ids in events.values()])
    path = tmp_path / "wider_face_train.mat"
    scipy.io.savemat(path, mat)
    recs = load_wider_mat(path, tmp_path, keep_missing=True)
    assert [r.path for r in recs] == [r.path for r in txt]
    for a, b in zip(recs, txt, strict=True):
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.ignore, b.ignore)
        for n in names:
            np.testing.assert_array_equal(a.attributes[n], b.attributes[n])


def test_mat_reader_rejects_garbage(tmp_path: Path) -> None:
    p = tmp_path / "wider_face_val.mat"
    p.write_bytes(b"MATLAB 5.0 but not really")
    with pytest.raises(ValueError, match=r"wider_face_val\.mat: not a readable MATLAB file"):
        load_wider_mat(p, tmp_path)
    scipy.io.savemat(p, {"event_list": _cells(["a"])})
    with pytest.raises(ValueError, match="missing variables"):
        load_wider_mat(p, tmp_path)


# ---- real data (skipped when ../shared is absent) ------------------------------------------------

def _faces(recs) -> int:
    return sum(len(r.boxes) + len(r.ignore) for r in recs)


def test_real_train_counts() -> None:
    root = shared_path("data", "widerface")
    every = load_wider(root, "train", keep_missing=True)
    assert (len(every), every.listed) == (12880, 12880)
    # 159,424 listed rows = valid + ignored (invalid or degenerate) + the 4 "no face" placeholder rows
    assert _faces(every) + every.notes["placeholder_rows"] == 159424
    assert every.notes == {"placeholder_rows": 4, "degenerate_boxes": 27, "invalid_faces": 2399}
    present = load_wider(root, "train")
    assert (len(present), present.listed, present.skipped) == (1000, 12880, 11880)
    placeholders = sum(1 for r in present if r.name == "0_Parade_Parade_0_452")  # the one face-less image
    assert _faces(present) + placeholders == 36701
    assert sum(int((r.ignore[:, 2] > r.ignore[:, 0]).sum()) for r in present) >= 685  # invalid faces


def test_real_val_counts_and_mat_agrees() -> None:
    root = shared_path("data", "widerface")
    every = load_wider(root, "val", keep_missing=True)
    assert len(every) == 3226 and _faces(every) + every.notes["placeholder_rows"] == 39708
    present = load_wider(root, "val")
    assert (len(present), present.skipped) == (144, 3082)
    mat = load_wider(root, "val", source="mat")
    assert [r.path for r in mat] == [r.path for r in present]
    for a, b in zip(mat, present, strict=True):
        np.testing.assert_array_equal(a.boxes, b.boxes)
        np.testing.assert_array_equal(a.ignore, b.ignore)
    gt = load_wider_mat(root / "ground_truth" / "wider_face_val.mat", root / "WIDER_val" / "images")
    assert len(gt) == 144 and _faces(gt) == _faces(present)
