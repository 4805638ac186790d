"""``facedet eval wider|fddb`` end to end on small synthetic files."""

from __future__ import annotations

import json

import numpy as np

from facedet.cli import main
from facedet.eval.predictions import write_predictions
from facedet.eval.wider_gt import GtImage, write_ground_truth


def _gt(tmp_path):
    boxes = np.array([[10, 10, 40, 40], [100, 100, 30, 30]], float)
    keep = {"easy": np.array([1]), "medium": np.array([1, 2]), "hard": np.array([1, 2])}
    write_ground_truth(tmp_path / "gt", [GtImage("0--Parade", "p1", boxes, np.zeros(2, bool), keep),
                                         GtImage("1--Handshaking", "h1", boxes[:1], np.zeros(1, bool),
                                                 {s: np.array([1]) for s in keep})])
    preds = {("0--Parade", "p1"): np.array([[10, 10, 40, 40, 0.9], [300, 300, 9, 9, 0.8], [100, 100, 30, 30, 0.1]])}
    write_predictions(tmp_path / "pred", preds)  # h1 has no file: a warning, no detections
    return tmp_path / "gt", tmp_path / "pred"


def test_wider_json_is_the_only_stdout(tmp_path, capsys):
    gt, pred = _gt(tmp_path)
    rc = main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--json",
               "--plot", str(tmp_path / "pr.png"), "--out", str(tmp_path / "r.json")])
    out, err = capsys.readouterr()
    assert rc == 0
    aps = json.loads(out)
    assert list(aps) == ["easy", "medium", "hard", "all"]
    # easy: p1 face 1 found at 0.9 (the FP at 0.8 after it), face h1 never: recall .5, AP .5
    assert aps["easy"] == 0.5
    # medium: TP .9 (P 1, R 1/3), FP .8, TP .1 -> P 2/3 at R 2/3: AP = 1/3 + 1/3 * 2/3
    assert abs(aps["medium"] - (1 / 3 + 2 / 9)) < 1e-12
    assert "missing" in err
    assert (tmp_path / "pr.png").stat().st_size > 1000
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["ap"] == aps and saved["missing_files"] == ["1--Handshaking/h1"]


def test_wider_table_and_strict_error(tmp_path, capsys):
    gt, pred = _gt(tmp_path)
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt)]) == 0
    assert "medium" in capsys.readouterr().out
    (pred / "0--Parade" / "p1.txt").write_text("p1\n2\n1 2 3 4 0.5\n")
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--strict"]) == 2
    assert "p1.txt: line 4" in capsys.readouterr().err


def test_wider_images_subset(tmp_path, capsys):
    gt, pred = _gt(tmp_path)
    (tmp_path / "img" / "0--Parade").mkdir(parents=True)
    (tmp_path / "img" / "0--Parade" / "p1.jpg").write_bytes(b"")
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--images", str(tmp_path / "img"),
                 "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["easy"] == 1.0 and "missing" not in err  # h1 is not in the subset


def test_fddb_cli(tmp_path, capsys):
    (tmp_path / "FDDB-fold-01.txt").write_text("a/img_1\n")
    (tmp_path / "FDDB-fold-01-ellipseList.txt").write_text("a/img_1\n1\n10 10 1.570796 10 10  1\n")
    (tmp_path / "dets.txt").write_text("a/img_1\n2\n0 0 20 20 0.9\n30 30 5 5 0.2\n")
    (tmp_path / "sizes.txt").write_text("a/img_1 40 40\n")
    rc = main(["eval", "fddb", "--dets", str(tmp_path / "dets.txt"), "--folds", str(tmp_path), "--fold-ids", "1",
               "--sizes", str(tmp_path / "sizes.txt"), "--json", "--roc-prefix", str(tmp_path / "r_")])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert res["tpr_disc"] == 1.0 and res["num_faces"] == 1
    assert (tmp_path / "r_DiscROC.txt").read_text().splitlines()[-1] == "1 0 0.9"


def test_wider_suspect_rows_warn_with_file_and_line_and_fail_strict(tmp_path, capsys):
    gt, pred = _gt(tmp_path)
    write_predictions(pred, {("1--Handshaking", "h1"): np.zeros((0, 5))})  # every file present
    p1 = pred / "0--Parade" / "p1.txt"
    for row, reason in (("10 10 40 40 inf", "non-finite score"), ("10 10 -40 40 0.9", "negative width"),
                        ("nan 10 40 40 0.9", "non-finite x")):
        p1.write_text(f"p1\n2\n100 100 30 30 0.1\n{row}\n")
        assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--json"]) == 0
        out, err = capsys.readouterr()
        assert f"p1.txt:4: {reason}" in err and json.loads(out)  # scored as the official code scores it
        assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--strict"]) == 2
        assert f"p1.txt: line 4: {reason}" in capsys.readouterr().err


def test_wider_missing_files_fail_strict_and_an_empty_folder_is_named(tmp_path, capsys):
    gt, pred = _gt(tmp_path)
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--strict"]) == 2
    assert "h1.txt: missing prediction file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["eval", "wider", "--pred", str(tmp_path / "empty"), "--gt", str(gt), "--json"]) == 0
    assert "holds none of the 2 prediction files" in capsys.readouterr().err


def test_wider_by_size_table_and_json(tmp_path, capsys):
    gt, pred = _gt(tmp_path)
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--by-size", "medium",
                 "--size-thr", "0.5", "--out", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "medium faces by size" in out
    # medium: p1's 40 px face found at 0.9, its 30 px face only at 0.1; h1's 40 px face has no file
    bins = {b["low"]: b for b in json.loads((tmp_path / "r.json").read_text())["by_size"]["bins"]}
    assert (bins[16]["faces"], bins[16]["found"], bins[16]["found_at_thr"]) == (1, 1, 0)
    assert (bins[32]["faces"], bins[32]["found"], bins[32]["found_at_thr"]) == (2, 1, 1)
    assert bins[32]["median_score"] == 0.9
    assert main(["eval", "wider", "--pred", str(pred), "--gt", str(gt), "--by-size", "easy",
                 "--size-thr", "2"]) == 2
    assert "--size-thr" in capsys.readouterr().err
