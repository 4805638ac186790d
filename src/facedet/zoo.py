"""Model zoo: name -> constructor, published accuracy/size, weight sources; build, download, load.

Each family brings its table of :class:`~facedet.families.base.ZooEntry` (``Family.zoo``); the zoo
merges them and builds, downloads and loads by preset name. Built models know their preset name
(``model.preset``), which ONNX exports record.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .families.base import ZooEntry

if TYPE_CHECKING:
    from torch import nn


def zoo() -> dict[str, ZooEntry]:
    """Every family's presets, merged (``facedet.families.FAMILIES`` is the one list of families)."""
    from .families import FAMILIES
    from .lazy import INSTALL_TORCH, has_torch

    if not has_torch():
        from .optional import MissingDependency

        raise MissingDependency(f"the model zoo builds torch models: {INSTALL_TORCH}")
    table: dict[str, ZooEntry] = {}
    for fam in FAMILIES.values():
        table.update(fam.zoo)
    return table


def entry(name: str) -> ZooEntry:
    """The zoo entry for ``name``, or for an architecture file (:mod:`facedet.archfile`: built by its
    family's ``from_arch``; no published numbers or weights); ValueError listing the known names otherwise."""
    from .archfile import is_arch_file

    if is_arch_file(name):
        return arch_entry(name)
    table = zoo()
    if name not in table:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


def arch_entry(path: str | Path) -> ZooEntry:
    """A zoo entry for an architecture file: its family must be able to build from an ``arch`` dict."""
    from .archfile import read_arch_file
    from .families import family_named

    spec = read_arch_file(path)
    fam = family_named(spec.family)
    if fam.from_arch is None:
        raise ValueError(f"{path}: the {fam.name} family cannot build a model from an architecture file")
    return ZooEntry(build=functools.partial(_build_arch, fam.from_arch, spec.arch, str(path)))


def _build_arch(build: Any, arch: dict[str, Any], where: str, **overrides: Any) -> nn.Module:
    """``build(arch)``; a bad ``arch`` (unknown key, wrong type, impossible shape) names the file."""
    try:
        return build(arch, **overrides)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def list_models() -> list[str]:
    """All model names in the zoo."""
    return list(zoo())


def build_model(name: str, **overrides: Any) -> nn.Module:
    """A freshly initialised model; ``overrides`` go to the preset (e.g. ``use_kps=True``)."""
    model = entry(name).build(**overrides)
    model.preset = name  # type: ignore[assignment]  # nn.Module's __setattr__ stub; a plain str attribute
    return model


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
    name: str, cache_dir: str | Path | None = None, url: str | None = None, sha256: str | None = None,
    timeout: float = 60.0, progress: bool = True,
) -> Path:
    """Download ``name``'s weights into the cache once (urllib; http(s) or file:// URLs) and return the path.

    Every file is checked against its pin, downloaded or cached: ``sha256`` when given, else the
    zoo entry's hash (whatever ``url`` it came from), else the hash recorded beside the file when it
    was first downloaded (``<file>.sha256``). A cached file that fails its pin is fetched again when a
    URL is known, otherwise refused. Offline or unreachable: one-line ``ConnectionError``.
    """
    src = entry(name).weights
    use_url = url or (src.url if src is not None else None)
    if src is not None:
        filename = src.filename
    elif use_url is not None:
        filename = Path(urllib.parse.urlparse(use_url).path).name
    else:
        raise ValueError(f"no weight source known for {name}; pass url= or a local weights path")
    dest = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = dest / filename
    sidecar = target.with_name(target.name + ".sha256")
    expected = (sha256 or (src.sha256 if src is not None else None) or "").lower() or None
    if target.exists():
        pin = expected or (sidecar.read_text().strip().lower() if sidecar.is_file() else None)
        cached = sha256_file(target) if pin is not None else None
        if cached == pin:
            return target
        if use_url is None:
            raise ValueError(f"{target}: sha256 {cached} is not the expected {pin} for {name}; delete it "
                             "or put the right file there")
    if use_url is None:
        page = f" (published at {src.page})" if src is not None and src.page else ""
        raise ValueError(
            f"{name}: no direct download URL known{page}; pass url=, a local weights path, "
            f"or put the file at {target}"
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=dest, delete=False, suffix=".part") as tmp:
        try:
            _fetch(use_url, tmp, timeout, progress, desc=Path(urllib.parse.urlparse(use_url).path).name)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    import zipfile

    if src is not None and src.archive_member and (url in (None, src.url) or zipfile.is_zipfile(tmp.name)):
        tmp_name = _extract_member(tmp.name, src.archive_member, src.archive_sha256 if url in (None, src.url) else None,
                                   name, use_url)
    else:
        tmp_name = tmp.name
    got = sha256_file(tmp_name)
    if expected is not None and got != expected:
        os.unlink(tmp_name)
        raise ValueError(f"sha256 mismatch for {name} from {use_url}: got {got}, expected {expected}")
    if expected is None:  # trust on first use: later cache hits are checked against this
        from .atomic import write_text_atomic

        write_text_atomic(sidecar, got + "\n")  # the pin first: a file never sits in the cache unpinned
    os.replace(tmp_name, target)
    return target


def _extract_member(archive: str, member: str, archive_sha256: str | None, name: str, url: str) -> str:
    """Check the downloaded zip (against ``archive_sha256`` when pinned), copy ``member`` out of it to
    a temp file beside it, delete the zip; returns the temp file's path."""
    import zipfile

    try:
        if archive_sha256 is not None and (got := sha256_file(archive)) != archive_sha256:
            raise ValueError(f"sha256 mismatch for {name}'s archive from {url}: got {got}, expected {archive_sha256}")
        try:
            with zipfile.ZipFile(archive) as z:
                names = {Path(n).name: n for n in z.namelist()}  # packs hold the member at the top or in a folder
                if member not in names:
                    raise ValueError(f"{url}: the archive holds no {member} (it has {', '.join(sorted(names)[:8])})")
                out = archive + ".member"
                with z.open(names[member]) as fh, open(out, "wb") as dst:
                    shutil.copyfileobj(fh, dst)
        except zipfile.BadZipFile:
            raise ValueError(f"{url}: not a zip archive (a truncated download?)") from None
    finally:
        os.unlink(archive)
    return out


def _fetch(url: str, out: Any, timeout: float, progress: bool, desc: str) -> None:
    """Copy ``url`` into the open file ``out`` with a progress bar; network failures -> ConnectionError."""
    import urllib.error

    from tqdm import tqdm

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - user-chosen URL
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress or total is None,
                      leave=False) as bar:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectionError(f"cannot download {url}: {reason} (offline? pass a local weights path)") from None


def load_state(model: nn.Module, path: str | Path) -> None:
    """Load our ``.pt``: a state dict, or a checkpoint dict with ``model`` / ``state_dict`` key (strict);
    ValueError naming the file when it holds another architecture's weights."""
    from .convert.state import read_state_dict

    _load_strict(model, read_state_dict(path), path)


def _load_strict(model: nn.Module, state: dict, path: str | Path) -> None:
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # missing / unexpected keys or mismatched shapes
        detail = " ".join(str(exc).split())[:240]
        name = getattr(model, "preset", type(model).__name__)
        raise ValueError(f"{path}: these weights do not fit {name} ({detail})") from None


def _import(importer: Any, model: nn.Module, path: Path, name: str) -> Any:
    """Run a family importer; its failures on a file of another layout become one ValueError."""
    try:
        return importer(model, path)
    except (KeyError, IndexError, RuntimeError, AttributeError) as exc:
        raise ValueError(f"{path}: not an official {name} file the importer can read "
                         f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})") from None


def load_model(name: str, weights: str | Path | None = None) -> nn.Module:
    """Build ``name`` and load weights: our .pt/.pth, or an official file (e.g. SCRFD .onnx, EXTD .pth)
    through the entry's importer. A state dict whose keys are not ours goes to the importer too.

    ``weights=None`` uses the cached / downloadable weights of the zoo entry. Returns eval mode.
    """
    from .convert.state import read_state_dict

    e = entry(name)
    model = build_model(name)
    path = Path(weights) if weights is not None else download_weights(name)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix.lower() == ".onnx":
        if e.importer is None:
            raise ValueError(f"{name} has no importer for {path.suffix} files")
        _import(e.importer, model, path, name)
        return model.eval()
    state = read_state_dict(path)
    if set(state) == set(model.state_dict()):
        _load_strict(model, state, path)
    elif e.importer is not None:
        _import(e.importer, model, path, name)
    else:
        missing = set(model.state_dict()) - set(state)
        raise ValueError(f"{path}: not a {name} state dict ({len(missing)} of our keys missing)")
    return model.eval()
