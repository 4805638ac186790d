"""Architecture files: parsing errors name the file, and the zoo, family registry and CLI accept them."""

import json

import pytest

from facedet.archfile import dump_arch, is_arch_file, read_arch_file
from facedet.families import default_config, family_of
from facedet.families.scrfd.presets import SCRFD_500M
from facedet.zoo import build_model

ARCH_500M = {"backbone": "mobilenet", "stage_blocks": [2, 3, 2, 6], "stage_planes": [16, 16, 40, 72, 152, 288],
             "neck_channels": 16, "feat_channels": 64, "dw_conv": True}


def _write(tmp_path, text, name="a.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_an_arch_file_builds_the_model_it_describes(tmp_path):
    p = _write(tmp_path, dump_arch("scrfd", ARCH_500M))
    model = build_model(str(p))
    assert model.config == SCRFD_500M
    assert sum(t.numel() for t in model.parameters()) == 572_741  # SCRFD-0.5GF's count (spec §1.1)
    assert family_of(str(p)).name == "scrfd"
    assert type(default_config(str(p)).loss).__name__ == "GFLLossConfig"
    j = _write(tmp_path, json.dumps({"family": "scrfd", "arch": ARCH_500M}), "a.json")
    assert build_model(str(j)).config == SCRFD_500M


def test_dump_and_read_round_trip(tmp_path):
    p = _write(tmp_path, dump_arch("scrfd", {"stage_blocks": (1, 2)}, {"macs": 5}))
    f = read_arch_file(p)
    assert (f.family, f.arch, f.search) == ("scrfd", {"stage_blocks": [1, 2]}, {"macs": 5})
    assert is_arch_file("x.YML") and not is_arch_file("scrfd_500m")


def _ok(extra: str) -> str:
    """A valid SCRFD-0.5GF file with one key replaced (or added)."""
    key = extra.split(":")[0]
    base = {k: v for k, v in ARCH_500M.items() if k != key}
    return "family: scrfd\narch:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in base.items()) + f"  {extra}\n"


@pytest.mark.parametrize("text,match", [
    ("family: scrfd\n  arch: {}\n", r"a\.yaml:2: not a valid architecture file"),
    ("arch: {}\n", "with 'family: NAME'"),
    ("family: scrfd\narch: {}\nextra: 1\n", r"unknown top-level keys \['extra'\]"),
    ("family: nosuch\narch: {}\n", "unknown detector family 'nosuch'"),
    ("family: scrfd\narch: {backbone: mobilenet, stage_blocks: [2]}\n", r"a\.yaml: .*missing SCRFD architecture keys"),
    ("family: scrfd\narch: {backbone: mobilenet, stage_blocks: [2, 3, 2, 6], stage_planes: [16, 16, 40, 72, 152, 288],"
     " neck_channels: 16, feat_channels: 64, wings: 2}\n", r"unknown SCRFD architecture keys \['wings'\]"),
    ("family: scrfd\narch: {backbone: mobilenet, stage_blocks: [2, 3, 2, -6], stage_planes: [16, 16, 40, 72, 152, 288],"
     " neck_channels: 16, feat_channels: 64}\n", "stage_blocks must be a list of positive integers"),
    (_ok("gn_groups: 0"), "gn_groups must be a positive integer"),
    (_ok("neck_channels: 0"), "neck_channels must be a positive integer"),
    (_ok("dw_conv: 'false'"), "dw_conv must be true or false"),
    (_ok("anchor_sizes: 5"), "anchor_sizes must be a list of lists"),
    (_ok("stage_blocks: [2, true, 2, 6]"), "stage_blocks must be a list of positive integers"),
    (_ok("backbone: vgg"), "backbone must be mobilenet"),
])
def test_bad_files_are_refused_with_the_file_named(tmp_path, text, match):
    p = _write(tmp_path, text)
    with pytest.raises(ValueError, match=match):
        build_model(str(p))


def test_a_missing_file_is_a_file_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="architecture file not found"):
        build_model(str(tmp_path / "none.yaml"))
