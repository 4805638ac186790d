"""``facedet search scrfd`` / ``facedet search collect`` and ``facedet flops`` on a candidate file."""

from __future__ import annotations

import json

import pytest

from facedet.archfile import read_arch_file
from facedet.cli import main


def test_search_writes_reproducible_candidates_that_flops_counts(tmp_path, capsys):
    args = ["search", "scrfd", "--gflops", "0.5", "--num", "2", "--seed", "3", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["cand_000.yaml", "cand_001.yaml", "search.yaml"]
    for n in names:
        assert (tmp_path / "a" / n).read_text() == (tmp_path / "b" / n).read_text()
    cand = tmp_path / "a" / "cand_001.yaml"
    f = read_arch_file(cand)
    assert f.arch["backbone"] == "mobilenet" and f.search["space"] == "mobilenet"
    capsys.readouterr()
    assert main(["flops", str(cand), "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert counted == {"params": f.search["params"], "macs": f.search["macs"]}
    assert abs(counted["macs"] / 0.5e9 - 1) <= 0.02
    assert main([*args, "--out", str(tmp_path / "a")]) == 2  # it holds candidates already: refused before searching
    assert "already holds 2 candidates" in capsys.readouterr().err


def test_stage2_keeps_the_templates_distribution(tmp_path):
    from facedet.families.scrfd.network import SCRFDConfig
    from facedet.families.scrfd.presets import SCRFD_2_5G
    from facedet.families.scrfd.search_space import count, stage_ratios

    out = tmp_path / "s2"
    # a wide budget tolerance keeps the test fast; the ratio rule is the one under test
    assert main(["search", "scrfd", "--stage", "2", "--template", "scrfd_2.5g", "--gflops", "2.5", "--eps", "0.5",
                 "--ratio-eps", "0.1", "--num", "1", "--out", str(out), "--no-progress"]) == 0
    template = stage_ratios(count(SCRFD_2_5G))
    for p in sorted(out.glob("cand_*.yaml")):
        ratios = stage_ratios(count(SCRFDConfig.from_dict(read_arch_file(p).arch)))
        assert all(0.9 * r <= t <= 1.1 * r for t, r in zip(template, ratios, strict=True))


@pytest.mark.parametrize("extra,msg", [
    (["--stage", "2"], "pass --template"),
    (["--template", "extd_fpn_32"], "belongs to the extd family, not scrfd"),
    (["--space", "vgg"], "unknown SCRFD search space"),
])
def test_search_mistakes(tmp_path, capsys, extra, msg):
    assert main(["search", "scrfd", "--gflops", "0.5", "--out", str(tmp_path), "--no-progress", *extra]) == 2
    assert msg in capsys.readouterr().err


def test_collect_prints_the_ranking(tmp_path, capsys):
    assert main(["search", "scrfd", "--gflops", "0.5", "--num", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    run = tmp_path / "cand_000"
    run.mkdir()
    (run / "epochs.csv").write_text("epoch,step,ap_easy,ap_medium,ap_hard\n1,5,0.5,0.4,0.3\n")
    capsys.readouterr()
    assert main(["search", "collect", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "| 1 | cand_000 |" in out and "| 50.00 | 40.00 | 30.00 | 1 |" in out
    assert "1 of 1 candidates evaluated" in out and (tmp_path / "ranking.md").is_file()
