"""ASFD's AutoFEM search glue: the supernet from a preset, and a derived genotype every preset takes."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from facedet.analysis.flops import skip_init
from facedet.families.asfd import ASFD, LADDER, build
from facedet.families.asfd.search import supernet_from
from facedet.models.necks.autofem import Genotype
from facedet.models.necks.autofem_ops import CPM_PRIMITIVES, FPN_PRIMITIVES
from facedet.search.darts import SearchCPMCell, SearchSlot, Supernet


def _pick(key: str) -> int:
    return sum(map(ord, key)) * 7


@pytest.fixture(scope="module")
def searched() -> ASFD:
    torch.manual_seed(0)
    return supernet_from(build("asfd_d0"))


def test_supernet_keeps_the_presets_outputs(searched) -> None:
    fixed = build("asfd_d0").eval()
    searched.eval()
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        a, b = fixed(x), searched(x)
    assert [t.shape for t in a.cls] == [t.shape for t in b.cls]
    assert [t.shape for t in a.reg] == [t.shape for t in b.reg]
    slots = [m for m in searched.fem.modules() if isinstance(m, SearchSlot)]
    cells = [m for m in searched.fem.modules() if isinstance(m, SearchCPMCell)]
    assert len(cells) == 6 and len(slots) == 10 + 6 * 21  # 5 td + 5 du; 6 levels x (1 + ... + 6) CPM edges
    assert all(s.mixed.partial == 4 for s in slots)
    net = Supernet(searched)
    assert len(net.arch_parameters()) == 10 + 6 * 21 + 6 * 6


def test_the_search_takes_only_an_autofem_asfd() -> None:
    with skip_init():
        dsfd_neck = build("asfd_d0", fem="dsfd")
    with pytest.raises(ValueError, match="AutoFEM neck"):
        supernet_from(dsfd_neck)
    with pytest.raises(ValueError, match="ASFD model"):
        supernet_from(torch.nn.Conv2d(1, 1, 1))
    with skip_init(), pytest.raises(ValueError, match="do not split"):
        supernet_from(build("asfd_d0", channels=26))


def test_derived_genotype_is_the_argmax_and_every_preset_takes_it(searched) -> None:
    arch = searched.fem.arch
    with torch.no_grad():
        for key, a in arch.alpha.items():
            a.zero_()
            a[_pick(key) % len(a)] = 1.0  # a hand-set winner per slot
        for b in arch.beta.values():
            b.copy_(torch.arange(len(b), dtype=torch.float32))
    g = Supernet(searched).derive_genotype()
    for i, lv in enumerate(g.fpn):
        want_td = None if i == 5 else FPN_PRIMITIVES[_pick(f"fpn_td_{i}") % len(FPN_PRIMITIVES)]
        want_du = None if i == 0 else FPN_PRIMITIVES[_pick(f"fpn_du_{i}") % len(FPN_PRIMITIVES)]
        assert (lv.td, lv.du, lv.same) == (want_td, want_du, "conv_1x1")
    assert g.cpm is not None
    for i, cell in enumerate(g.cpm):
        for j, edges in enumerate(cell, start=1):
            assert [s for _, s in edges] == ([0] if j == 1 else [j - 2, j - 1])  # the largest β
            assert [op for op, _ in edges] == [CPM_PRIMITIVES[_pick(f"cpm{i}_n{j}_s{s}") % len(CPM_PRIMITIVES)]
                                               for _, s in edges]
    g = Genotype.from_dict(g.to_dict())
    for name in LADDER:
        with torch.device("meta"), skip_init():
            model = build(name)
            rebuilt = ASFD(replace(model.config, genotype=g))
        assert rebuilt.fem.genotype == g


def test_overwrite_clears_only_a_search_folder(tmp_path) -> None:
    import argparse

    import pytest

    from facedet.families.asfd.search import _check_outputs

    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"a training run's checkpoint")
    args = argparse.Namespace(overwrite=True, resume=False)
    with pytest.raises(FileExistsError, match="not an AutoFEM search"):
        _check_outputs(tmp_path / "g.json", run, args)
    (run / "search.json").write_text("{}")
    _check_outputs(tmp_path / "g.json", run, args)  # a search folder: --overwrite may clear it
