"""SCRFD's zoo table: the README's WIDER val AP, sizes and our recounts (spec scrfd.md §1.1; FLOPs are
MACs at 640x480), where the official weights are published, and the importer of official files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from ...convert.state import read_state_dict
from ..base import WeightSource, ZooEntry
from .presets import PRESETS

_SCRFD_README = "https://github.com/deepinsight/insightface/tree/master/detection/scrfd"
# (easy, medium, hard, README params M, README FLOPs G, recount params, recount MACs G, onedrive .pth)
_SCRFD_TABLE: dict[str, tuple[float, float, float, float, float, int, float, str]] = {
    "scrfd_500m": (90.57, 88.12, 68.51, 0.57, 0.508, 572_741, 0.511, "s!AswpsDO2toNKqyYWxScdiTITY4TQ?e=DjXof9"),
    "scrfd_1g": (92.38, 90.57, 74.80, 0.64, 1.0, 635_565, 0.986, "s!AswpsDO2toNKqyPVLI44ahNBsOMR?e=esPrBL"),
    "scrfd_2.5g": (93.78, 92.16, 77.87, 0.67, 2.53, 671_761, 2.532, "s!AswpsDO2toNKqyTIXnzB1ujPq4th?e=5t1VNv"),
    "scrfd_10g": (95.16, 93.87, 83.05, 3.86, 9.98, 3_860_225, 9.985, "s!AswpsDO2toNKqyUKwTiwXv2kaa8o?e=umfepO"),
    "scrfd_34g": (96.06, 94.92, 85.29, 9.80, 34.13, 9_802_737, 34.142, "s!AswpsDO2toNKqyKZwFebVlmlOvzz?e=V2rqUy"),
    "scrfd_500m_kps": (90.97, 88.44, 69.49, 0.57, 0.5, 631_410, 0.584, "s!AswpsDO2toNKri_NDM0GIkPpkE2f?e=JkebJo"),
    "scrfd_2.5g_kps": (93.80, 92.02, 77.13, 0.82, 2.5, 819_809, 2.605, "s!AswpsDO2toNKqyGlhxnCg3smyQqX?e=A6Hufm"),
    "scrfd_10g_kps": (95.40, 94.01, 82.80, 4.23, 10.0, 4_229_905, 10.076, "s!AswpsDO2toNKqycsF19UbaCWaLWx?e=F6i5Vm"),
}
# sha256 of the ONNX exports our importer is validated against (insightface exports, onnx-simplified)
_SCRFD_ONNX_SHA256 = {
    "scrfd_500m": "04c07b47c5e030e78f5ee0d2f36c8fb7020e6cc79be5860c82b76213ff358a10",
    "scrfd_1g": "fc6c7b47b84fec1713a8654d83f482fdfe8c2ef05c37a438a16e1dfe1a83f5e6",
    "scrfd_2.5g": "6cd57dc102af4be5b846ccf8b7db20269124fe6ebb9490e3c13f6511e9904187",
    "scrfd_500m_kps": "517cb1980c72422e676738fc45431700fb7cbee56d0f825b623ee427b3e5ce58",
    "scrfd_2.5g_kps": "32d20c77b9e2dc1d07e94c2ab9d25bdd5cd05eddbe0b46e7b38e7a1eca22e99a",
}

_INSIGHTFACE_V07 = "https://github.com/deepinsight/insightface/releases/download/v0.7"
_INSIGHTFACE_LICENCE = ("insightface: the pretrained models are for non-commercial research purposes only "
                        "(https://github.com/deepinsight/insightface#license)")
# The detectors of the insightface python package's model packs, a direct download (a zip on the
# GitHub release). The member sha256 pins are the ones at least three unrelated public projects pin
# for these files (det_500m.onnx is the same file in buffalo_s and buffalo_sc); the buffalo_sc.zip
# pin is two projects'. Not downloadable from this build machine: the import of these exact files is
# untested here (guess_preset checks the graph when one is loaded).
_SCRFD_PACKS = {
    "scrfd_10g_kps": ("buffalo_l.zip", "det_10g.onnx",
                      "5838f7fe053675b1c7a08b633df49e7af5495cee0493c7dcf6697200b85b5b91", None),
    "scrfd_500m_kps": ("buffalo_sc.zip", "det_500m.onnx",
                       "5e4447f50245bbd7966bd6c0fa52938c61474a04ec7def48753668a9d8b4ea3a",
                       "57d31b56b6ffa911c8a73cfc1707c73cab76efe7f13b675a05223bf42de47c72"),
}


def import_official(model: nn.Module, path: Path, **options: Any) -> Any:
    """Official SCRFD files: an ONNX export (imported op by op; ``options`` go to
    :func:`~.onnx_import.import_scrfd_onnx`), or an mmdet ``.pth`` whose names are ours plus the
    unused DFL buffer ``bbox_head.integral.project`` (dropped; loaded strictly)."""
    if Path(path).suffix.lower() == ".onnx":
        from .onnx_import import import_scrfd_onnx  # lazy: onnx is only needed for this path

        return import_scrfd_onnx(model, path, **options)
    state = {k: v for k, v in read_state_dict(path).items()
             if not k.startswith("bbox_head.integral.")}
    model.load_state_dict(state, strict=True)
    return None


def zoo_table() -> dict[str, ZooEntry]:
    """Every SCRFD preset with its published numbers, weight source and importer."""
    entries = {}
    for name, build in PRESETS.items():
        e, m, h, p_m, f_g, p_exact, macs_g, share = _SCRFD_TABLE[name]
        published = {
            "easy": e, "medium": m, "hard": h, "params_m": p_m, "flops_g": f_g,
            "params_recount": p_exact, "macs_g_recount": macs_g, "source": f"{_SCRFD_README} (README)",
        }
        note = ("official mmdet .pth on OneDrive (README link, not a direct download); an official ONNX "
                "export can be given as url= / weights= (imported by facedet.families.scrfd.onnx_import)")
        if name in _SCRFD_PACKS:
            pack, member, sha, pack_sha = _SCRFD_PACKS[name]
            weights = WeightSource(
                filename=member, url=f"{_INSIGHTFACE_V07}/{pack}", sha256=sha, page=f"https://1drv.ms/u/{share}",
                note=f"weights='official' downloads insightface's {pack} and takes its {member}; {note}",
                archive_member=member, archive_sha256=pack_sha, licence=_INSIGHTFACE_LICENCE,
            )
        else:
            weights = WeightSource(
                filename=f"{name}.onnx", sha256=_SCRFD_ONNX_SHA256.get(name), page=f"https://1drv.ms/u/{share}",
                note=note, licence=_INSIGHTFACE_LICENCE,
            )
        if name == "scrfd_500m_kps":
            published["note"] = "README params/FLOPs copied from the 500M row; the config builds 0.631 M, 0.584 G"
        entries[name] = ZooEntry(build, published, weights, import_official)
    return entries
