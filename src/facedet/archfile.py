"""Architecture files: a model described by data (YAML or JSON) instead of a zoo preset name.

A file holds ``family`` (a registered family's name), ``arch`` (the keyword fields of that family's
architecture config, e.g. every ``SCRFDConfig`` field) and optionally ``search`` (how a search drew
it: budget, seed, MACs; ignored when building). Wherever a zoo name is accepted (``facedet train``,
``facedet flops``, ``facedet eval``, ``FaceDetector``), the path of such a file is accepted too:
the zoo builds it through its family's ``from_arch``. Search candidates are such files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class ArchFile:
    """The parsed contents of an architecture file."""

    family: str
    arch: dict[str, Any]
    search: dict[str, Any] = field(default_factory=dict)
    path: str = ""


def is_arch_file(name: str | Path) -> bool:
    """Whether ``name`` names an architecture file (by suffix; a zoo name never has one)."""
    return Path(str(name)).suffix.lower() in SUFFIXES


def read_arch_file(path: str | Path) -> ArchFile:
    """Parse ``path``; missing file, bad YAML/JSON or a wrong layout raise errors naming the file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"architecture file not found: {p}")
    text = p.read_text()
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else getattr(exc, "lineno", None)
        where = f"{p}:{line}" if line else str(p)
        raise ValueError(f"{where}: not a valid architecture file ({' '.join(str(exc).split())[:160]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("family"), str) or not isinstance(data.get("arch"), dict):
        raise ValueError(f"{p}: an architecture file is a mapping with 'family: NAME' and 'arch: {{...}}'")
    search = data.get("search") or {}
    if not isinstance(search, dict):
        raise ValueError(f"{p}: 'search' must be a mapping")
    unknown = set(data) - {"family", "arch", "search"}
    if unknown:
        raise ValueError(f"{p}: unknown top-level keys {sorted(unknown)} (family, arch, search)")
    return ArchFile(data["family"], dict(data["arch"]), dict(search), str(p))


def dump_arch(family: str, arch: dict[str, Any], search: dict[str, Any] | None = None) -> str:
    """The YAML text of an architecture file (tuples as lists; key order kept)."""
    doc: dict[str, Any] = {"family": family, "arch": to_plain(arch)}
    if search:
        doc["search"] = to_plain(search)
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120)


def to_plain(x: Any) -> Any:
    """Tuples to lists and numpy scalars to Python numbers, recursively, for ``yaml.safe_dump``."""
    if isinstance(x, dict):
        return {str(k): to_plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [to_plain(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str | bytes):
        return x.item()
    return x
