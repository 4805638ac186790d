"""The search driver on a hand-made space: the budget bounds, determinism, the files it writes."""

from dataclasses import dataclass

import pytest
from torch import nn

from facedet.archfile import read_arch_file
from facedet.search import Draw, random_search, write_candidates
from facedet.search.random_search import within


@dataclass(frozen=True)
class Widths:
    """A 1x1 conv 3 -> w at 640x480: exactly 640 * 480 * w * 3 MACs (no bias)."""

    widths: tuple[int, ...] = (10, 20, 30, 40)
    name: str = "toy"
    stage: int = 1
    reject: int = -1  # a width the space's own rule refuses

    def sample(self, rng):
        w = int(self.widths[rng.integers(len(self.widths))])
        return None if w == 0 else Draw({"w": w}, {"w": w})

    def check(self, c):
        return "refused" if c.per_module.get("0") == 640 * 480 * 3 * self.reject else None

    def describe(self):
        return {"space": self.name, "stage": self.stage, "widths": list(self.widths)}


def build(arch):
    return nn.Sequential(nn.Conv2d(3, arch["w"], 1, bias=False))


def macs(w: int) -> float:
    return 640 * 480 * 3 * w


def test_within_is_inclusive_at_both_ends():
    assert within(98.0, 100.0, 0.02) and within(102.0, 100.0, 0.02)
    assert not within(97.99, 100.0, 0.02) and not within(102.01, 100.0, 0.02)


def test_only_draws_inside_the_budget_are_kept():
    # target: w = 20 exactly; w = 20.4 would be +2 %, so 10 / 30 / 40 are all far outside
    cands = random_search(Widths(), build, macs(20) / 1e9, num=5, seed=0, progress=False)
    assert [c.arch["w"] for c in cands] == [20] * 5
    assert all(c.macs == macs(20) for c in cands)
    assert [c.draw for c in cands] == sorted({c.draw for c in cands})
    # just inside and just outside: 2 % of 20 is 0.4, so with target 20.4 / 1.02 = 20 -> in, 20.41 / 1.02 -> out
    assert random_search(Widths((20,)), build, macs(20) * 1.02 / 1e9, 1, progress=False)[0].arch == {"w": 20}
    with pytest.raises(ValueError, match="only 0 of 1 candidates"):
        random_search(Widths((20,)), build, macs(20) * 1.0205 / 1e9, 1, max_draws=20, progress=False)


def test_the_space_rule_and_invalid_draws_are_skipped():
    with pytest.raises(ValueError, match="only 0 of 1"):
        random_search(Widths((20,), reject=20), build, macs(20) / 1e9, 1, max_draws=10, progress=False)
    cands = random_search(Widths((0, 20)), build, macs(20) / 1e9, 3, progress=False)
    assert len(cands) == 3


def test_same_seed_same_candidates_other_seed_other_order():
    space = Widths((20, 20, 30))
    a = random_search(space, build, macs(20) / 1e9, 4, seed=7, progress=False)
    b = random_search(space, build, macs(20) / 1e9, 4, seed=7, progress=False)
    c = random_search(space, build, macs(20) / 1e9, 4, seed=8, progress=False)
    assert [x.draw for x in a] == [x.draw for x in b]
    assert [x.draw for x in a] != [x.draw for x in c]


def test_written_candidates_are_architecture_files(tmp_path):
    cands = random_search(Widths(), build, macs(20) / 1e9, 2, progress=False)
    paths = write_candidates(tmp_path, "toyfam", cands, {"gflops": 1.0, "seed": 0}, Widths().describe())
    assert [p.name for p in paths] == ["cand_000.yaml", "cand_001.yaml"]
    f = read_arch_file(paths[1])
    assert f.family == "toyfam" and f.arch == {"w": 20}
    assert f.search["index"] == 1 and f.search["macs"] == macs(20) and f.search["space"] == "toy"
    assert read_arch_file(tmp_path / "cand_000.yaml").arch == {"w": 20}
    summary = (tmp_path / "search.yaml").read_text()
    assert "space_settings:" in summary and "gflops: 1.0" in summary
    with pytest.raises(FileExistsError, match="already holds 2 candidates"):
        write_candidates(tmp_path, "toyfam", cands[:1], {}, {})
    write_candidates(tmp_path, "toyfam", cands[:1], {}, {}, overwrite=True)
    assert sorted(p.name for p in tmp_path.glob("cand_*.yaml")) == ["cand_000.yaml"]


def test_bad_arguments_are_refused():
    for kw in ({"num": 0}, {"gflops": 0.0}, {"gflops": float("nan")}, {"gflops": float("inf")}, {"eps": 0.0}):
        args = {"num": 1, "gflops": 1.0, "eps": 0.02, **kw}
        with pytest.raises(ValueError, match="need num"):
            random_search(Widths(), build, args["gflops"], args["num"], eps=args["eps"], progress=False)


def test_runs_of_earlier_candidates_are_never_paired_with_new_ones(tmp_path):
    cands = random_search(Widths(), build, macs(20) / 1e9, 1, progress=False)
    write_candidates(tmp_path, "toyfam", cands, {}, {})
    (tmp_path / "cand_000").mkdir()  # a training run of the old cand_000
    with pytest.raises(FileExistsError, match="holds training runs"):
        write_candidates(tmp_path, "toyfam", cands, {}, {}, overwrite=True)
    assert not list(tmp_path.glob(".writing-*"))


def test_an_interrupted_write_leaves_no_search_yaml(tmp_path, monkeypatch):
    import facedet.archfile as archfile

    cands = random_search(Widths(), build, macs(20) / 1e9, 3, progress=False)
    calls = []

    def failing(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return "family: toyfam\narch: {}\n"

    monkeypatch.setattr(archfile, "dump_arch", failing)
    with pytest.raises(KeyboardInterrupt):
        write_candidates(tmp_path, "toyfam", cands, {}, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing moved in, the temporary folder removed
