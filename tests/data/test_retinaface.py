"""RetinaFace / SCRFD label.txt reader: both box layouts, landmarks, ignore lines, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facedet.data.retinaface import load_label_txt, parse_label_txt

LABEL = """\
# 0--Parade/a.jpg 640 480
10 20 50 70 20.5 40.0 1.0 40.5 40.0 1.0 30.0 50.0 1.0 22.0 60.0 0.0 38.0 60.0 1.0
100 100 120 130 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1
5 5 9 9 1
200 200 240 250 0
300 300 340 350
# 1--Handshaking/b.jpg
# c.jpg 32 32
1 1 10 12
"""


def test_xyxy_layout() -> None:
    recs = parse_label_txt(LABEL, "label.txt", "/data/images")
    assert [r.path for r in recs] == ["/data/images/0--Parade/a.jpg", "/data/images/1--Handshaking/b.jpg",
                                      "/data/images/c.jpg"]
    a = recs[0]
    assert a.size == (640, 480) and a.event == "0--Parade"
    np.testing.assert_array_equal(a.boxes, [[10, 20, 50, 70], [100, 100, 120, 130], [200, 200, 240, 250],
                                            [300, 300, 340, 350]])
    np.testing.assert_array_equal(a.ignore, [[5, 5, 9, 9]])  # 5 numbers, 5th == 1
    assert a.landmark_valid.tolist() == [True, False, False, False]  # -1 and absent landmarks are invalid
    np.testing.assert_allclose(a.landmarks[0], [[20.5, 40], [40.5, 40], [30, 50], [22, 60], [38, 60]])
    assert a.landmarks.shape == (4, 5, 2) and a.landmarks.dtype == np.float32
    b, c = recs[1], recs[2]
    assert b.boxes.shape == (0, 4) and b.size is None and b.landmarks.shape == (0, 5, 2)
    assert c.size == (32, 32) and c.event == ""
    np.testing.assert_array_equal(c.boxes, [[1, 1, 10, 12]])


def test_partially_annotated_landmarks_count_as_missing() -> None:
    text = "# a.jpg\n0 0 10 10 1 1 1 -1 -1 -1 3 3 1 4 4 1 5 5 1\n"
    assert parse_label_txt(text, "l").__getitem__(0).landmark_valid.tolist() == [False]


def test_xywh_layout_of_original_retinaface() -> None:
    text = ("# 0--Parade/a.jpg\n"
            "10 20 40 50 20.5 40.0 0.0 40.5 40.0 0.0 30.0 50.0 0.0 22.0 60.0 0.0 38.0 60.0 0.0 0.82\n"
            "100 100 20 30 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n"
            "7 8 2 3\n")
    r = parse_label_txt(text, "label.txt", box_format="xywh")[0]
    np.testing.assert_array_equal(r.boxes, [[10, 20, 50, 70], [100, 100, 120, 130], [7, 8, 9, 11]])
    assert r.landmark_valid.tolist() == [True, False, False]
    np.testing.assert_allclose(r.landmarks[0, 4], [38, 60])
    with pytest.raises(ValueError, match=r"label\.txt:2: expected 4 or 5 or 19 numbers, got 20 .*box_format='xywh'"):
        parse_label_txt(text, "label.txt")


def test_degenerate_box_goes_to_ignore() -> None:
    r = parse_label_txt("# a.jpg\n10 10 10 20\n0 0 5 5\n", "l")[0]
    np.testing.assert_array_equal(r.boxes, [[0, 0, 5, 5]])
    np.testing.assert_array_equal(r.ignore, [[10, 10, 10, 20]])
    assert r.landmark_valid.tolist() == [False]


@pytest.mark.parametrize("text, message", [
    ("", r"lab:1: empty annotation file"),
    ("1 2 3 4\n", r"lab:1: face line before the first '# <image path>' line"),
    ("# a.jpg\n1 2 3\n", r"lab:2: expected 4 or 5 or 19 numbers, got 3"),
    ("# a.jpg\n1 2 x 4\n", r"lab:2: non-numeric field 'x'"),
    ("# a.jpg\n\n1 2 nan 4\n", r"lab:3: value is not finite"),
    ("#\n", r"lab:1: expected '# <image path> \[W H\]'"),
    ("# a.jpg 640\n", r"lab:1: expected '# <image path> \[W H\]'"),
    ("# a.jpg 640 -4\n", r"lab:1: image size must be two positive integers"),
    ("# a.jpg 0 4\n", r"lab:1: image size must be positive"),
])
def test_malformed_input_names_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_label_txt(text, "lab")


def test_bad_box_format() -> None:
    with pytest.raises(ValueError, match="box_format"):
        parse_label_txt(LABEL, "l", box_format="cxcywh")


def test_load_skips_absent_images(tmp_path: Path) -> None:
    (tmp_path / "label.txt").write_text(LABEL)
    (tmp_path / "images" / "0--Parade").mkdir(parents=True)
    (tmp_path / "images" / "0--Parade" / "a.jpg").write_bytes(b"x")
    recs = load_label_txt(tmp_path / "label.txt")
    assert [r.name for r in recs] == ["a"] and (recs.listed, recs.skipped) == (3, 2)
    assert recs[0].path == str(tmp_path / "images" / "0--Parade" / "a.jpg")


def test_format_label_txt_round_trips() -> None:
    from facedet.data.retinaface import format_label_txt

    recs = parse_label_txt(LABEL, "label.txt")
    again = parse_label_txt(format_label_txt(recs), "again.txt")
    assert [r.path for r in again] == [r.path for r in recs] and [r.size for r in again] == [r.size for r in recs]
    for a, b in zip(recs, again, strict=True):
        np.testing.assert_allclose(a.boxes, b.boxes, atol=0.005)
        np.testing.assert_allclose(a.ignore, b.ignore, atol=0.005)
        np.testing.assert_array_equal(a.landmark_valid, b.landmark_valid)
        np.testing.assert_allclose(a.landmarks[a.landmark_valid], b.landmarks[b.landmark_valid], atol=0.005)


def test_format_label_txt_refuses_whitespace_paths() -> None:
    from facedet.data.records import ImageRecord
    from facedet.data.retinaface import format_label_txt

    with pytest.raises(ValueError, match="whitespace"):
        format_label_txt([ImageRecord(path="my photos/a.jpg", boxes=np.zeros((0, 4), np.float32))])
