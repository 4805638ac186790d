"""Cases a careless or hostile user tried (issue 18 review): each ends in one line and a proper exit code,
never a traceback, and never an output written over an input or outside its folder."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import torch

from facedet.cli import main
from facedet.config import Config, apply_overrides
from facedet.families import default_config


def _img(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((32, 32, 3), np.uint8))
    return path


@pytest.mark.parametrize("override", ["train.milestones=[null]", "data.crop_choice=[null]", "train.milestones=[[1]]",
                                      "data.crop_choice={a: 1}", "train.milestones=[1.7]", "train.milestones=[true]",
                                      "data.crop_choice=[true]", "train.lr=1" + "0" * 400,
                                      "train.batch_size=!!python/object:os.system x", "train.seed=4294967296"])
def test_odd_override_values_are_refused(override) -> None:
    with pytest.raises(ValueError):
        apply_overrides(Config(), [override])


@pytest.mark.parametrize("override", ["loss.atss_topk=-5", "loss.cls_weight=-1", "loss.qfl_beta=-1",
                                      "loss.box_loss=l1"])
def test_family_loss_settings_are_checked(override) -> None:
    with pytest.raises(ValueError, match="loss\\."):
        apply_overrides(default_config("scrfd_500m"), [override])


def test_empty_and_foreign_checkpoints(tmp_path, capsys) -> None:
    image = _img(tmp_path / "p.jpg")
    (tmp_path / "empty.pt").write_bytes(b"")
    assert main(["detect", str(image), "--weights", str(tmp_path / "empty.pt")]) == 2
    assert "PyTorch checkpoint" in capsys.readouterr().err
    from facedet.zoo import build_model

    torch.save(build_model("scrfd_1g").state_dict(), tmp_path / "other.pt")
    assert main(["detect", str(image), "--weights", str(tmp_path / "other.pt")]) == 2
    err = capsys.readouterr().err
    assert "scrfd_500m" in err and err.count("\n") == 1


def test_wider_out_stays_inside_its_folder_and_off_the_inputs(tmp_path, capsys, monkeypatch) -> None:
    _img(tmp_path / "ev" / "x.jpg")
    (tmp_path / "ev" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "ev" / "sub")
    assert main(["detect", "../x.jpg", "--wider-out", "w", "--input-size", "96", "96"]) == 0
    assert (tmp_path / "ev" / "sub" / "w" / "ev" / "x.txt").is_file()  # the real folder name, not '..'
    assert not (tmp_path / "ev" / "sub" / "x.txt").exists()
    capsys.readouterr()
    _img(tmp_path / "t2" / "ev" / "x.txt.jpg")
    (tmp_path / "t2" / "ev" / "x.txt").write_bytes(open(tmp_path / "ev" / "x.jpg", "rb").read())
    assert main(["detect", str(tmp_path / "t2" / "ev" / "x.txt"), "--wider-out", str(tmp_path / "t2")]) == 2
    assert "would overwrite the input" in capsys.readouterr().err


def test_a_file_given_twice_runs_once_and_odd_names_are_drawn_as_png(tmp_path, capsys) -> None:
    a = _img(tmp_path / "a" / "x.jpg")
    odd = tmp_path / "a" / "noext"
    odd.write_bytes(a.read_bytes())
    out = tmp_path / "o"
    assert main(["detect", str(a), str(tmp_path / "a"), str(odd), "--out", str(out), "--input-size", "96", "96"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2  # x.jpg once, noext once
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["noext.png", "x.jpg"]


def test_eval_refuses_to_write_over_its_ground_truth(tmp_path, capsys) -> None:
    from tests.cli.test_eval import _gt

    gt, pred = _gt(tmp_path)
    mat = gt / "wider_face_val.mat"
    before = mat.read_bytes()
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--out", str(mat)]) == 2
    assert "would destroy the input" in capsys.readouterr().err and mat.read_bytes() == before


def test_fddb_sizes_listed_twice_with_different_values(tmp_path) -> None:
    from facedet.eval.fddb import read_image_sizes

    (tmp_path / "s.txt").write_text("img_1 300 200\nimg_1 101 81\n")
    with pytest.raises(ValueError, match=r"s.txt:2: img_1 is listed again with another size"):
        read_image_sizes(tmp_path / "s.txt")
    (tmp_path / "s.json").write_text('{"img_1": [true, 200]}')
    with pytest.raises(ValueError, match="positive integers"):
        read_image_sizes(tmp_path / "s.json")


def test_max_faces_is_checked_for_every_rank() -> None:
    from facedet import FaceDetector
    from tests.api.tiny_model import TinySCRFD

    for bad in (-1, 0, 1.5, True):
        with pytest.raises(ValueError, match="max_faces"):
            FaceDetector(TinySCRFD(), max_faces=bad, rank="area")


def test_a_bad_pixel_limit_variable_warns_and_keeps_the_default(monkeypatch) -> None:
    from facedet import limits

    for bad in ("abc", "1e6", "0", "-1"):
        monkeypatch.setenv("FACEDET_MAX_IMAGE_PIXELS", bad)
        with pytest.warns(UserWarning, match="not a positive integer"):
            assert limits.pixel_limit_from_env() == limits.DEFAULT_MAX_IMAGE_PIXELS
    monkeypatch.setenv("FACEDET_MAX_IMAGE_PIXELS", "1000")
    assert limits.pixel_limit_from_env() == 1000
    assert os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS")


def test_byte_order_marks_are_not_content(tmp_path) -> None:
    from facedet.data import detect_format, load_dataset
    from facedet.eval.fddb import read_fddb_detections, read_image_sizes

    _img(tmp_path / "images" / "a.jpg")
    (tmp_path / "label.txt").write_bytes(b"\xef\xbb\xbf# a.jpg\n1 1 20 20\n")
    assert detect_format(tmp_path / "label.txt")[0] == "label" and len(load_dataset(tmp_path / "label.txt")) == 1
    (tmp_path / "s.json").write_bytes(b'\xef\xbb\xbf{"a/img_1": [40, 30]}')
    assert read_image_sizes(tmp_path / "s.json") == {"a/img_1": (40, 30)}
    (tmp_path / "d.txt").write_bytes(b"\xef\xbb\xbfa/img_1\n1\n1 2 3 4 0.5\n")
    assert list(read_fddb_detections(tmp_path / "d.txt")) == ["a/img_1"]


def test_fddb_suspect_detections_are_named(tmp_path) -> None:
    from facedet.data.fddb import FddbImage
    from facedet.eval.fddb import evaluate_fddb

    images = [FddbImage("a/img_1", np.array([[10.0, 10.0, 1.5, 20.0, 20.0]]))]
    res = evaluate_fddb({"a/img_1": np.array([[0, 0, -5, 10, np.inf]])}, images, {"a/img_1": (40, 40)})
    assert any("non-finite values or negative sizes" in w and "a/img_1" in w for w in res.warnings)
