"""Zoo: names, building with overrides, published numbers, cached download with sha256, loading."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from facedet import zoo
from facedet.families import FAMILIES, family_of
from facedet.families.base import Family, ZooEntry
from tests.conftest import shared_path


def test_list_and_published() -> None:
    names = zoo.list_models()
    for n in ("scrfd_500m", "scrfd_1g", "scrfd_2.5g", "scrfd_10g", "scrfd_34g",
              "scrfd_500m_kps", "scrfd_2.5g_kps", "scrfd_10g_kps"):
        assert n in names
    p = zoo.published("scrfd_2.5g")
    assert (p["easy"], p["medium"], p["hard"], p["params_m"]) == (93.78, 92.16, 77.87, 0.67)
    with pytest.raises(ValueError, match="unknown model"):
        zoo.build_model("scrfd_3g")


def test_build_with_overrides() -> None:
    m = zoo.build_model("scrfd_500m", use_kps=True)
    assert m.has_kps and m.config.use_kps


def _write_pt(tmp_path: Path, as_checkpoint: bool) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(1)
    src = zoo.build_model("scrfd_500m")
    for p in src.parameters():
        p.data.normal_()
    path = tmp_path / "w.pt"
    torch.save({"model": src.state_dict(), "epoch": 3} if as_checkpoint else src.state_dict(), path)
    return path, src


@pytest.mark.parametrize("as_checkpoint", [False, True])
def test_load_model_pt(tmp_path: Path, as_checkpoint: bool) -> None:
    path, src = _write_pt(tmp_path, as_checkpoint)
    model = zoo.load_model("scrfd_500m", path)
    assert not model.training
    got = model.state_dict()
    assert all(torch.equal(got[k], v) for k, v in src.state_dict().items())
    with pytest.raises(FileNotFoundError):
        zoo.load_model("scrfd_500m", tmp_path / "missing.pt")


def test_download_weights_file_url_and_sha(tmp_path: Path) -> None:
    path, _ = _write_pt(tmp_path, False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    got = zoo.download_weights("scrfd_500m", cache_dir=cache, url=path.as_uri(), sha256=digest)
    assert got.parent == cache and got.read_bytes() == path.read_bytes()
    path.unlink()  # second call must come from the cache, not the (now missing) URL
    assert zoo.download_weights("scrfd_500m", cache_dir=cache, url=path.as_uri(), sha256=digest) == got
    other = tmp_path / "other"
    src2, _ = _write_pt(tmp_path, True)
    with pytest.raises(ValueError, match="sha256 mismatch"):
        zoo.download_weights("scrfd_500m", cache_dir=other, url=src2.as_uri(), sha256=digest)
    assert not any(other.iterdir())  # no partial file left behind


def test_download_without_url_says_where(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1drv.ms"):
        zoo.download_weights("scrfd_10g", cache_dir=tmp_path)
    # a file put into the cache by hand is used, and checked against the known export hash
    (tmp_path / "scrfd_2.5g.onnx").write_bytes(b"not the official export")
    with pytest.raises(ValueError, match="is not the expected 6cd57dc1"):
        zoo.download_weights("scrfd_2.5g", cache_dir=tmp_path)
    (tmp_path / "scrfd_10g.onnx").write_bytes(b"no known hash for this one")
    assert zoo.download_weights("scrfd_10g", cache_dir=tmp_path) == tmp_path / "scrfd_10g.onnx"


def _unused(*args: object) -> None:
    raise AssertionError("not called by the zoo")


def test_a_family_object_plugs_its_zoo_and_importer_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A family with a zoo table (constructor, published numbers, importer of its official files) is one
    entry of ``FAMILIES``; the zoo lists, builds and loads its presets with no other change."""
    imported = []

    def importer(model: torch.nn.Module, path: Path) -> None:
        state = torch.load(path)
        model.load_state_dict({"weight": state["w"], "bias": state["b"]})
        imported.append(path)

    table = {"tiny_net": ZooEntry(lambda: torch.nn.Conv2d(3, 2, 1), {"hard": 50.0}, None, importer)}
    fake = Family("fake", table, criterion=_unused, augment=_unused, postprocess=_unused)
    monkeypatch.setitem(FAMILIES, "fake", fake)
    assert "tiny_net" in zoo.list_models() and "scrfd_500m" in zoo.list_models()
    assert zoo.published("tiny_net") == {"hard": 50.0}
    assert family_of("tiny_net") is fake
    official = tmp_path / "official.pth"
    torch.save({"w": torch.ones(2, 3, 1, 1), "b": torch.zeros(2)}, official)
    model = zoo.load_model("tiny_net", official)  # keys are not ours -> the importer
    assert imported == [official] and float(model.weight.sum().detach()) == 6.0
    assert model.preset == "tiny_net"
    ours = tmp_path / "ours.pt"
    torch.save({"model": model.state_dict()}, ours)
    zoo.load_model("tiny_net", ours)  # our own checkpoint: loaded directly
    assert len(imported) == 1


def test_extd_zoo_loads_the_official_checkpoint() -> None:
    """The EXTD family's zoo entry imports its official checkpoints (skips without them)."""
    weights = shared_path("weights", "extd", "EXTD_32.pth")
    model = zoo.load_model("extd_fpn_32", weights)
    assert sum(p.numel() for p in model.parameters()) == 62_939


def test_load_mmdet_style_pth(tmp_path: Path) -> None:
    """An official mmdet checkpoint: {'state_dict': ours + bbox_head.integral.project, 'meta': ...}."""
    path, src = _write_pt(tmp_path, False)
    state = dict(src.state_dict())
    state["bbox_head.integral.project"] = torch.linspace(0, 8, 9)
    official = tmp_path / "scrfd_500m.pth"
    torch.save({"meta": {"epoch": 640}, "state_dict": state}, official)
    model = zoo.load_model("scrfd_500m", official)
    key = "neck.fpn_convs.0.conv.weight"
    assert torch.equal(model.state_dict()[key], src.state_dict()[key])
    del state[key]
    torch.save({"state_dict": state}, official)
    with pytest.raises(ValueError, match="Missing key"):  # one line naming the file, not a traceback
        zoo.load_model("scrfd_500m", official)


def test_every_download_and_cache_hit_is_checked_against_its_pin(tmp_path: Path) -> None:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"weights v1")
    # a known entry keeps its pin when the caller points url= elsewhere
    with pytest.raises(ValueError, match="sha256 mismatch"):
        zoo.download_weights("scrfd_2.5g", cache_dir=tmp_path / "c1", url=payload.as_uri())
    # no pin known: the first download records one, and later cache hits are checked against it
    cache = tmp_path / "c2"
    got = zoo.download_weights("scrfd_10g", cache_dir=cache, url=payload.as_uri(), progress=False)
    assert (cache / "scrfd_10g.onnx.sha256").read_text().strip() == hashlib.sha256(b"weights v1").hexdigest()
    got.write_bytes(b"corrupted on disk")
    with pytest.raises(ValueError, match="is not the expected"):
        zoo.download_weights("scrfd_10g", cache_dir=cache)  # no URL to fetch it again: refused
    assert zoo.download_weights("scrfd_10g", cache_dir=cache, url=payload.as_uri()) == got  # fetched again
    assert got.read_bytes() == b"weights v1"


def test_offline_download_is_one_line_connection_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectionError, match="cannot download") as info:
        zoo.download_weights("scrfd_10g", cache_dir=tmp_path, url=(tmp_path / "absent.onnx").as_uri())
    assert "\n" not in str(info.value) and not list(tmp_path.iterdir())


def test_official_weights_inside_a_release_zip_are_extracted_and_pinned(tmp_path: Path) -> None:
    import zipfile

    src = zoo.entry("scrfd_10g_kps").weights
    assert src is not None and src.url.endswith("/buffalo_l.zip") and src.archive_member == "det_10g.onnx"
    assert src.sha256 == "5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91"
    assert "non-commercial" in src.licence
    pack = tmp_path / "buffalo_l.zip"
    with zipfile.ZipFile(pack, "w") as z:
        z.writestr("buffalo_l/det_10g.onnx", b"a stand-in detector")
        z.writestr("buffalo_l/w600k_r50.onnx", b"not wanted")
    with pytest.raises(ValueError, match="sha256 mismatch"):  # the real pin refuses the stand-in
        zoo.download_weights("scrfd_10g_kps", cache_dir=tmp_path / "c1", url=pack.as_uri())
    digest = hashlib.sha256(b"a stand-in detector").hexdigest()
    got = zoo.download_weights("scrfd_10g_kps", cache_dir=tmp_path / "c2", url=pack.as_uri(), sha256=digest)
    assert got.name == "det_10g.onnx" and got.read_bytes() == b"a stand-in detector"
    assert [p.name for p in (tmp_path / "c2").iterdir()] == ["det_10g.onnx"]  # zip and temp files gone
    # a url= of the file itself (not a zip) is used as it is, still under the pin
    direct = tmp_path / "det_10g.onnx"
    direct.write_bytes(b"a stand-in detector")
    got = zoo.download_weights("scrfd_10g_kps", cache_dir=tmp_path / "c3", url=direct.as_uri(), sha256=digest)
    assert got.read_bytes() == b"a stand-in detector"
    with pytest.raises(ValueError, match="sha256 mismatch"):
        zoo.download_weights("scrfd_10g_kps", cache_dir=tmp_path / "c4", url=direct.as_uri())
