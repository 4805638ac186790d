"""load_dataset recognises every supported layout; summary statistics; the ``facedet data`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facedet.cli import main
from facedet.data import detect_format, load_dataset, summarize
from facedet.data.records import ImageRecord
from facedet.data.stats import RecordList, height_bin_names, height_histogram
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider
from tests.conftest import shared_path

VOC = b"""<annotation><filename>v.jpg</filename><object><name>face</name>
<bndbox><xmin>1</xmin><ymin>2</ymin><xmax>11</xmax><ymax>22</ymax></bndbox></object></annotation>"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("ds")
    cfg = SyntheticConfig(num_images=6, image_size=(96, 96), face_sizes=(8, 80))
    write_synthetic_wider(r, "train", cfg, seed=0)
    write_synthetic_wider(r, "val", cfg, seed=1)
    return r


def test_detect_format(root: Path, tmp_path: Path) -> None:
    assert detect_format(root) == ("wider", root)
    txt = root / "wider_face_split" / "wider_face_val_bbx_gt.txt"
    assert detect_format(txt) == ("wider_txt", txt)
    assert detect_format(root / "ground_truth" / "wider_face_val.mat")[0] == "wider_mat"
    assert detect_format(root / "WIDER_val" / "label.txt")[0] == "label"
    assert detect_format(root / "WIDER_val") == ("label", root / "WIDER_val" / "label.txt")
    (tmp_path / "annotations").mkdir()
    assert detect_format(tmp_path) == ("voc", tmp_path)
    with pytest.raises(ValueError, match="not a recognised data set folder"):
        detect_format(root / "wider_face_split")
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "nope")


def test_every_layout_loads_the_same_faces(root: Path) -> None:
    ref = load_dataset(root, split="val")
    variants = [load_dataset(root / "wider_face_split" / "wider_face_val_bbx_gt.txt"),
                load_dataset(root / "ground_truth" / "wider_face_val.mat"),
                load_dataset(root / "WIDER_val" / "label.txt"),
                load_dataset(root / "WIDER_val")]
    for recs in variants:
        assert [r.path for r in recs] == [r.path for r in ref]
        for a, b in zip(ref, recs, strict=True):
            np.testing.assert_array_equal(a.boxes, b.boxes)
            np.testing.assert_array_equal(a.ignore, b.ignore)
    assert [r.path for r in load_dataset(root)] != [r.path for r in ref]  # default split is train


def test_voc_folder(tmp_path: Path) -> None:
    (tmp_path / "annotations").mkdir()
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations" / "v.xml").write_bytes(VOC)
    (tmp_path / "images" / "v.jpg").write_bytes(b"x")
    recs = load_dataset(tmp_path)
    np.testing.assert_array_equal(recs[0].boxes, [[1, 2, 11, 22]])


def test_height_histogram_bins() -> None:
    assert height_bin_names() == ["<8", "8-16", "16-32", "32-64", "64-128", "128-256", ">=256"]
    h = np.array([0, 7.9, 8, 15.9, 16, 31, 32, 64, 127, 128, 255, 256, 1000])
    assert height_histogram(h).tolist() == [2, 2, 2, 1, 2, 2, 2]


def test_summarize_hand_made_records() -> None:
    recs = RecordList([
        ImageRecord("a.jpg", np.array([[0, 0, 10, 5], [0, 0, 10, 40]], np.float32),
                    ignore=np.array([[0, 0, 4, 4]], np.float32), landmark_valid=np.array([True, False])),
        ImageRecord("b.jpg", np.zeros((0, 4), np.float32)),
    ], source="x", listed=5, skipped=3)
    s = summarize(recs)
    assert (s.images_present, s.images_listed, s.images_skipped) == (2, 5, 3)
    assert (s.faces, s.ignored, s.images_without_faces, s.with_landmarks) == (2, 1, 1, 1)
    assert s.height_counts == [1, 0, 0, 1, 0, 0, 0]


def test_cli_stats_table_and_json(root: Path, capsys: pytest.CaptureFixture) -> None:
    truth = load_dataset(root, split="val")
    faces = sum(len(r.boxes) for r in truth)
    assert main(["data", "stats", str(root), "--split", "val", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["images"] == {"present": 6, "listed": 6, "skipped": 0,
                             "without_faces": sum(len(r.boxes) == 0 for r in truth)}
    assert out["faces"] == faces and sum(out["height_histogram"].values()) == faces
    assert main(["data", "stats", str(root / "WIDER_val" / "label.txt")]) == 0
    text = capsys.readouterr().out
    assert "6 present / 6 listed" in text and f"faces            {faces}" in text and "128-256" in text
    assert main(["data", "stats", str(root / "missing")]) == 3
    assert "no such file or folder" in capsys.readouterr().err


def test_cli_synth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "synth", str(tmp_path), "--split", "val", "--images", "3", "--size", "64", "64"]) == 0
    assert "wrote 3 val images" in capsys.readouterr().out
    assert len(load_dataset(tmp_path, split="val")) == 3
    assert (tmp_path / "ground_truth" / "wider_hard_val.mat").is_file()


def test_real_data_through_load_dataset() -> None:
    root = shared_path("data", "widerface")
    recs = load_dataset(root / "wider_face_split" / "wider_face_val_bbx_gt.txt")
    assert (len(recs), recs.listed) == (144, 3226)
    s = summarize(load_dataset(shared_path("data", "facemask")))
    assert (s.images_present, s.faces) == (853, 4072)
