"""Model zoo: name -> constructor, published accuracy/size, weight sources; build, download, load.

Families contribute tables of :class:`ZooEntry`; adding a family is one line in ``_FAMILIES``
(e.g. ``("extd", "facedet.models.extd")``, whose ``PRESETS`` may hold plain constructors or
``ZooEntry`` objects, and an optional ``PUBLISHED`` / ``WEIGHTS`` dict keyed by model name).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from .convert.state import read_state_dict


@dataclass(frozen=True)
class WeightSource:
    """Where a model's weights are published.

    ``url``: a direct download (None when only a web page exists); ``sha256`` of the file at
    ``url``; ``page``: the official page / share link; ``filename`` in the cache.
    """

    filename: str
    url: str | None = None
    sha256: str | None = None
    page: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ZooEntry:
    """One zoo model: constructor, published numbers (AP %, params M, FLOPs G), weight source."""

    build: Callable[..., nn.Module]
    published: Mapping[str, Any] = field(default_factory=dict)
    weights: WeightSource | None = None
    importer: Callable[[nn.Module, Path], Any] | None = None  # loads a foreign format (e.g. official .onnx)


# ---- SCRFD (spec scrfd.md §1.1; README AP on WIDER val, FLOPs = MACs at 640x480) -------------------

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
_SCRFD_PACKAGED = {  # the insightface python package's detectors (not verified here; guess_preset checks)
    "scrfd_10g_kps": f"reported to ship as det_10g.onnx inside {_INSIGHTFACE_V07}/buffalo_l.zip",
    "scrfd_500m_kps": f"reported to ship as det_500m.onnx inside {_INSIGHTFACE_V07}/buffalo_s.zip and buffalo_sc.zip",
}


def _import_scrfd(model: nn.Module, path: Path) -> Any:
    """Official SCRFD files: an ONNX export (imported op by op), or an mmdet ``.pth`` whose names are
    ours plus the unused DFL buffer ``bbox_head.integral.project`` (dropped; loaded strictly)."""
    if Path(path).suffix.lower() == ".onnx":
        from .convert.scrfd_onnx import import_scrfd_onnx  # lazy: onnx is only needed for this path

        return import_scrfd_onnx(model, path)
    state = read_state_dict(path, weights_only=False)
    state = {k: v for k, v in state.items() if not k.startswith("bbox_head.integral.")}
    model.load_state_dict(state, strict=True)
    return None


def _scrfd_entries() -> dict[str, ZooEntry]:
    from .models.scrfd import PRESETS

    entries = {}
    for name, build in PRESETS.items():
        e, m, h, p_m, f_g, p_exact, macs_g, share = _SCRFD_TABLE[name]
        published = {
            "easy": e, "medium": m, "hard": h, "params_m": p_m, "flops_g": f_g,
            "params_recount": p_exact, "macs_g_recount": macs_g, "source": f"{_SCRFD_README} (README)",
        }
        note = ("official mmdet .pth on OneDrive (README link, not a direct download); an official ONNX "
                "export can be given as url= / weights= (imported by facedet.convert.scrfd_onnx)")
        if name in _SCRFD_PACKAGED:
            note += f"; {_SCRFD_PACKAGED[name]}"
        weights = WeightSource(
            filename=f"{name}.onnx", sha256=_SCRFD_ONNX_SHA256.get(name), page=f"https://1drv.ms/u/{share}", note=note
        )
        if name == "scrfd_500m_kps":
            published["note"] = "README params/FLOPs copied from the 500M row; the config builds 0.631 M, 0.584 G"
        entries[name] = ZooEntry(build, published, weights, _import_scrfd)
    return entries


def _resolve(ref: str | Callable[..., Any] | None) -> Callable[..., Any] | None:
    """A callable from ``"package.module:function"`` (imported lazily) or the callable itself."""
    if ref is None or callable(ref):
        return ref
    mod_name, _, attr = ref.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(mod_name), attr)(*args, **kwargs)

    return call


def _family_entries(module_name: str, importer: str | Callable[..., Any] | None = None) -> dict[str, ZooEntry]:
    """Entries of a family module exposing ``PRESETS`` (callables or ZooEntry) [+ ``PUBLISHED``,
    ``WEIGHTS``, ``IMPORTER``]; ``importer`` ("module:function" or callable) loads official files."""
    mod = importlib.import_module(module_name)
    published = getattr(mod, "PUBLISHED", {})
    weights = getattr(mod, "WEIGHTS", {})
    imp = _resolve(importer or getattr(mod, "IMPORTER", None))
    out = {}
    for name, item in mod.PRESETS.items():
        if isinstance(item, ZooEntry):
            out[name] = item
        else:
            out[name] = ZooEntry(item, published.get(name, {}), weights.get(name), imp)
    return out


# family name -> loader of its table; one line per family, e.g.
#   "extd": lambda: _family_entries("facedet.models.extd", "facedet.convert.extd:load_extd_official"),
_FAMILIES: dict[str, Callable[[], dict[str, ZooEntry]]] = {
    "scrfd": _scrfd_entries,
    "extd": lambda: _family_entries("facedet.models.extd", "facedet.convert.extd:load_extd_official"),
    "group_sampling": lambda: _family_entries("facedet.models.group_sampling"),
}
_ZOO: dict[str, ZooEntry] | None = None


def zoo() -> dict[str, ZooEntry]:
    """The merged table (built lazily so ``import facedet.zoo`` stays cheap)."""
    global _ZOO
    if _ZOO is None:
        table: dict[str, ZooEntry] = {}
        for loader in _FAMILIES.values():
            table.update(loader())
        _ZOO = table
    return _ZOO


def register_family(name: str, module_name: str, importer: str | Callable[..., Any] | None = None) -> None:
    """Add a family module (``PRESETS`` [+ ``PUBLISHED``, ``WEIGHTS``, ``IMPORTER``]) at run time."""
    global _ZOO
    _FAMILIES[name] = lambda: _family_entries(module_name, importer)
    _ZOO = None


def entry(name: str) -> ZooEntry:
    """The zoo entry for ``name``; ValueError listing the known names otherwise."""
    table = zoo()
    if name not in table:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


def list_models() -> list[str]:
    """All model names in the zoo."""
    return list(zoo())


def build_model(name: str, **overrides: Any) -> nn.Module:
    """A freshly initialised model; ``overrides`` go to the preset (e.g. ``use_kps=True``)."""
    return entry(name).build(**overrides)


def published(name: str) -> dict[str, Any]:
    """Published numbers: ``easy``/``medium``/``hard`` AP (%), ``params_m``, ``flops_g`` (+ recounts)."""
    return dict(entry(name).published)


def default_cache_dir() -> Path:
    """``$FACEDET_CACHE`` or ``~/.cache/facedet/weights``."""
    return Path(os.environ.get("FACEDET_CACHE", Path.home() / ".cache" / "facedet" / "weights"))


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_weights(
    name: str, cache_dir: str | Path | None = None, url: str | None = None, sha256: str | None = None
) -> Path:
    """Download ``name``'s weights into the cache once (urllib; http(s) or file:// URLs) and return the path.

    The file is verified against ``sha256`` when given, else against the entry's hash when the
    entry's own URL is used. A cached file is reused without downloading again.
    """
    src = entry(name).weights
    use_url = url or (src.url if src is not None else None)
    expected = sha256 or (src.sha256 if src is not None and url in (None, src.url) else None)
    if src is not None:
        filename = src.filename
    elif use_url is not None:
        filename = Path(urllib.request.urlparse(use_url).path).name
    else:
        raise ValueError(f"no weight source known for {name}; pass url= or a local weights path")
    dest = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = dest / filename
    if target.exists():
        cached = sha256_file(target) if expected is not None else None
        if cached == expected:
            return target
        if use_url is None:
            raise ValueError(f"{target}: sha256 {cached} is not the expected {expected} for {name}")
    if use_url is None:
        page = f" (published at {src.page})" if src is not None and src.page else ""
        raise ValueError(
            f"{name}: no direct download URL known{page}; pass url=, a local weights path, "
            f"or put the file at {target}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest, delete=False, suffix=".part") as tmp:
        with urllib.request.urlopen(use_url) as resp:  # noqa: S310 - user-chosen URL
            shutil.copyfileobj(resp, tmp)
    got = sha256_file(tmp.name)
    if expected is not None and got != expected:
        os.unlink(tmp.name)
        raise ValueError(f"sha256 mismatch for {name} from {use_url}: got {got}, expected {expected}")
    os.replace(tmp.name, target)
    return target


def load_state(model: nn.Module, path: str | Path) -> None:
    """Load our ``.pt``: a state dict, or a checkpoint dict with ``model`` / ``state_dict`` key (strict)."""
    model.load_state_dict(read_state_dict(path, weights_only=False), strict=True)


def load_model(name: str, weights: str | Path | None = None) -> nn.Module:
    """Build ``name`` and load weights: our .pt/.pth, or an official file (e.g. SCRFD .onnx, EXTD .pth)
    through the entry's importer. A state dict whose keys are not ours goes to the importer too.

    ``weights=None`` uses the cached / downloadable weights of the zoo entry. Returns eval mode.
    """
    e = entry(name)
    model = e.build()
    path = Path(weights) if weights is not None else download_weights(name)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix.lower() == ".onnx":
        if e.importer is None:
            raise ValueError(f"{name} has no importer for {path.suffix} files")
        e.importer(model, path)
        return model.eval()
    state = read_state_dict(path, weights_only=False)
    if set(state) == set(model.state_dict()):
        model.load_state_dict(state, strict=True)
    elif e.importer is not None:
        e.importer(model, path)
    else:
        missing = set(model.state_dict()) - set(state)
        raise ValueError(f"{path}: not a {name} state dict ({len(missing)} of our keys missing)")
    return model.eval()
