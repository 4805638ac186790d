"""The frozen teacher of a distillation run (``facedet train ... --teacher MODEL_OR_FILE``)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from facedet.engine.checkpoint import load_checkpoint


def teacher_preset(spec: str, preset: str = "") -> str:
    """The zoo preset of a teacher: ``preset`` when given, a zoo name itself, a file named after its
    preset (``scrfd_2.5g.onnx``), the model name stored in our checkpoint, or the family's guess."""
    from facedet.families import guess_preset
    from facedet.zoo import list_models

    if preset:
        return preset
    names = list_models()
    if spec in names:
        return spec
    path = Path(spec)
    if path.stem in names:
        return path.stem
    if path.suffix.lower() in (".pt", ".pth"):
        ck = load_checkpoint(path)
        name = ck.get("model_name") or (ck.get("config") or {}).get("model", {}).get("name")
        if isinstance(name, str) and name in names:
            return name
    return guess_preset(path)


def load_teacher(spec: str, preset: str = "") -> nn.Module:
    """A teacher in eval mode with gradients off: a zoo name (its packaged or cached weights) or a
    weights file (an official ``.onnx`` / ``.pth`` or our ``.pt``); FileNotFoundError for a missing file."""
    from facedet.zoo import list_models, load_model

    name = teacher_preset(spec, preset) if (spec in list_models() or Path(spec).is_file()) else ""
    if not name:
        raise FileNotFoundError(f"--teacher {spec!r}: neither a zoo model nor an existing file")
    weights = None if spec == name and not Path(spec).is_file() else spec
    return load_model(name, weights).eval().requires_grad_(False)
