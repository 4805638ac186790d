"""Ranking trained candidates: last evaluated row, Hard-AP order, untrained ones last, the report files."""

import pytest

from facedet.archfile import dump_arch
from facedet.search.collect import collect, format_table, last_evaluated, plot, write_report

PARTS = {"backbone.stem": 10, "backbone.layer1": 30, "neck": 20, "bbox_head": 40}


def _cand(d, name, hard_rows):
    (d / f"{name}.yaml").write_text(dump_arch("scrfd", {}, {"macs": 100, "params": 7, "parts": PARTS}))
    if hard_rows is not None:
        run = d / name
        run.mkdir()
        lines = ["epoch,step,loss,ap_easy,ap_medium,ap_hard,best"]
        lines += [f"{i + 1},{10 * (i + 1)},1.0,{e},{m},{h},{h}" if h is not None else f"{i + 1},{10 * (i + 1)},1.0,,,,"
                  for i, (e, m, h) in enumerate(hard_rows)]
        (run / "epochs.csv").write_text("\n".join(lines) + "\n")


def test_ranking_uses_the_last_evaluated_row_by_hard_ap(tmp_path):
    _cand(tmp_path, "cand_000", [(0.5, 0.4, 0.30), (0.6, 0.5, 0.20)])  # last row counts: 0.20, not the best 0.30
    _cand(tmp_path, "cand_001", [(0.1, 0.1, 0.25), (0.2, 0.2, None)])  # the unevaluated last row is skipped
    _cand(tmp_path, "cand_002", None)
    _cand(tmp_path, "cand_003", [(0.7, 0.6, 0.22)])
    res = collect(tmp_path)
    assert [r.name for r in res] == ["cand_001", "cand_003", "cand_000", "cand_002"]
    assert res[0].ap == {"ap_easy": 0.1, "ap_medium": 0.1, "ap_hard": 0.25} and res[0].epoch == 1
    assert res[-1].status == "not trained" and res[2].share("bbox_head") == 40.0
    assert [r.name for r in collect(tmp_path, "ap_easy")][:3] == ["cand_003", "cand_000", "cand_001"]
    table = format_table(res)
    assert "| 1 | cand_001 | 0.000 | 0.000 | 10.0 | 30.0 | 20.0 | 40.0 | 10.00 | 10.00 | 25.00 | 1 |" in table
    assert "| - | cand_002 |" in table and "not trained" in table
    written = write_report(tmp_path, res) + plot(res, tmp_path)
    assert [p.name for p in written] == ["ranking.md", "ranking.json", "ap_vs_share.png", "ap_cdf.png"]
    assert all(p.stat().st_size > 0 for p in written)


def test_last_evaluated_without_any_ap(tmp_path):
    p = tmp_path / "epochs.csv"
    p.write_text("epoch,step,loss\n1,10,2.0\n")
    assert last_evaluated(p) == ({}, 0.0, 0)


def test_collect_refuses_an_empty_folder_and_bad_metric(tmp_path):
    with pytest.raises(FileNotFoundError, match="no cand_"):
        collect(tmp_path)
    with pytest.raises(ValueError, match="--metric"):
        collect(tmp_path, "ap_all")


def test_partial_runs_rank_after_finished_ones_and_nan_is_no_ap(tmp_path):
    _cand(tmp_path, "cand_000", [(0.5, 0.4, 0.30)])
    (tmp_path / "cand_000" / "config.yaml").write_text("train:\n  epochs: 8\n")  # evaluated at epoch 1 of 8
    _cand(tmp_path, "cand_001", [(0.1, 0.1, 0.10)])
    (tmp_path / "cand_001" / "config.yaml").write_text("train:\n  epochs: 1\n")
    _cand(tmp_path, "cand_002", [(0.1, 0.1, float("nan"))])
    _cand(tmp_path, "cand_004", [(0.1, 0.1, 0.05), (0.2, 0.2, 0.06)])  # stopped on purpose at train.max_steps
    (tmp_path / "cand_004" / "config.yaml").write_text("train:\n  epochs: 65\n  max_steps: 20\n")
    _cand(tmp_path, "cand_005", [(0.1, 0.1, 0.07)])
    (tmp_path / "cand_005" / "config.yaml").write_text("train:\n  epochs: 65\n  max_steps: 20\n")
    _cand(tmp_path, "cand_003", None)
    (tmp_path / "cand_003").mkdir()  # started, killed before its first epoch ended
    res = collect(tmp_path)
    assert [(r.name, r.status) for r in res] == [
        ("cand_001", "done"), ("cand_004", "done"), ("cand_000", "partial (1 of 8 epochs)"),
        ("cand_005", "partial (10 of 20 steps)"), ("cand_002", "no AP yet (train with --val)"),
        ("cand_003", "started (no epoch logged yet)")]
    assert "| - | cand_000 |" in format_table(res)


def test_a_value_that_is_not_a_number_names_file_and_line(tmp_path):
    p = tmp_path / "epochs.csv"
    p.write_text("epoch,ap_easy,ap_medium,ap_hard\n1,0.1,0.1,0.1\n2,0.2,abc,0.2\n")
    with pytest.raises(ValueError, match=r"epochs.csv:3: could not convert"):
        last_evaluated(p)


def test_a_hand_written_candidate_is_counted(tmp_path):
    arch = {"backbone": "mobilenet", "stage_blocks": [2, 3, 2, 6], "stage_planes": [16, 16, 40, 72, 152, 288],
            "neck_channels": 16, "feat_channels": 64, "dw_conv": True}
    (tmp_path / "cand_000.yaml").write_text(dump_arch("scrfd", arch, {"parts": [1, 2]}))  # a malformed block
    (r,) = collect(tmp_path)
    assert (r.macs, r.params) == (511_368_600, 572_741) and r.parts["bbox_head"] > 0
