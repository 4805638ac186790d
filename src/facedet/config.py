"""Training configuration: frozen dataclasses, dotted command-line overrides and YAML round trips.

Defaults follow the released SCRFD configs, the default model's family (``specs/scrfd.md`` §2.3):
SGD 0.9 / 5e-4, lr 0.01, 1500-iteration linear warm-up from 0.001, steps at epochs 440 and 544 of 640, 8 images per GPU.
Overrides are ``section.key=value`` strings (``train.lr=0.02``); the value is parsed as YAML and
coerced to the type of the field's default, so typos and wrong types fail loudly.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from facedet import checks as C

SCRFD_CROP_CHOICE = (0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0)


@dataclass(frozen=True)
class ModelConfig:
    """Which detector to build (a ``facedet.zoo`` name) and the weights it starts from.

    ``init``: a weights file loaded before training (our ``.pt``, or an official file through the
    preset's importer), as mmdetection's ``load_from``; empty = the preset's own initialisation.
    ``--resume`` restores the checkpoint over it.
    """

    name: str = "scrfd_500m"
    init: str = ""


@dataclass(frozen=True)
class DataConfig:
    """Training-time data pipeline (SCRFD §2.2) and loader settings."""

    input_size: int = 640  # square side after RandomSquareCrop + Resize
    crop_choice: tuple[float, ...] = SCRFD_CROP_CHOICE
    crop_fill: int = 128  # value of pixels outside the image (every channel)
    clip_border: bool = True  # clip boxes and keypoints to the crop (500m/1g/34g configs)
    flip_prob: float = 0.5
    photometric: bool = True
    num_workers: int = 2
    repeats: tuple[int, ...] = ()  # per --data repeat factor (mixed data sets); empty = 1 each
    min_short_side: int = 32  # images whose shorter side is under this are dropped (RetinaFaceDataset)
    augment: str = "auto"  # auto (the model family's) or the name of a family whose pipeline to use

    def __post_init__(self) -> None:
        if C.integer("data.input_size", self.input_size, minimum=32) % 32:
            raise ValueError(f"data.input_size must be a multiple of 32, got {self.input_size}")
        if not self.crop_choice:
            raise ValueError("data.crop_choice must hold at least one scale")
        for v in self.crop_choice:
            C.number("data.crop_choice", v, 0.0, strict=True)
        C.integer("data.crop_fill", self.crop_fill, minimum=0)
        if self.crop_fill > 255:
            raise ValueError(f"data.crop_fill must be a pixel value 0..255, got {self.crop_fill}")
        C.fraction("data.flip_prob", self.flip_prob)
        C.integer("data.num_workers", self.num_workers, minimum=0)
        for v in self.repeats:
            C.integer("data.repeats", v)
        C.integer("data.min_short_side", self.min_short_side)


@dataclass(frozen=True)
class NoLossConfig:
    """The ``loss`` section of a family without ``loss.*`` settings; each family brings its own
    dataclass (``Family.loss_config``), so a run's ``config.yaml`` holds only its family's keys."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and engine switches."""

    epochs: int = 640
    batch_size: int = 8  # per process
    optimizer: str = "sgd"  # sgd | adam | adamw (facedet.engine.optim; code may pass any factory)
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_iters: int = 1500
    warmup_ratio: float = 0.001
    schedule: str = "step"  # step | cosine
    milestones: tuple[int, ...] = (440, 544)  # epochs (step schedule)
    milestone_iters: tuple[int, ...] = ()  # iterations; when given they replace the epoch milestones
    gamma: float = 0.1
    min_lr_ratio: float = 0.0  # cosine floor as a fraction of lr
    grad_clip: float = 0.0  # max grad norm; 0 = off (the released configs do not clip)
    amp: bool = True  # CUDA only
    channels_last: bool = True  # CUDA only
    cpu_channels_last: bool = False  # channels-last on CPU too (scrfd_500m 320 px: 30.7 -> 36.7 img/s, bench_train.py)
    cpu_bf16: bool = False  # bf16 autocast on CPU (AVX-512 BF16 machines)
    flush_denormal: bool = True  # CPU: subnormal floats as zero while fit() runs (README, "On CPU")
    ema: bool = False
    ema_decay: float = 0.9998
    seed: int = 0
    log_interval: int = 20
    save_interval_steps: int = 0  # extra mid-epoch checkpoints; 0 = only at epoch ends
    max_steps: int = 0  # stop (with a checkpoint) after this many global steps; 0 = no limit
    threads: int = 0  # torch.set_num_threads; 0 = leave as is
    device: str = "auto"  # auto | cpu | cuda

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "log_interval"):
            C.integer(f"train.{name}", getattr(self, name))
        for name in ("warmup_iters", "save_interval_steps", "max_steps", "threads", "seed"):
            C.integer(f"train.{name}", getattr(self, name), minimum=0)
        if self.seed >= 2**32:  # numpy's and torch's seeding range
            raise ValueError(f"train.seed must be below 2**32, got {self.seed}")
        C.choice("train.optimizer", self.optimizer, ("sgd", "adam", "adamw"))
        C.choice("train.schedule", self.schedule, ("step", "cosine"))
        for name in ("lr", "weight_decay", "grad_clip"):
            C.number(f"train.{name}", getattr(self, name), 0.0)
        C.number("train.gamma", self.gamma, 0.0, strict=True)
        for name in ("momentum", "warmup_ratio", "min_lr_ratio", "ema_decay"):
            C.fraction(f"train.{name}", getattr(self, name))
        for v in (*self.milestones, *self.milestone_iters):
            C.integer("train.milestones", v, minimum=0)
        C.device("train.device", self.device)


@dataclass(frozen=True)
class EvalConfig:
    """Periodic evaluation on a WIDER val folder with the official protocol."""

    interval: int = 1  # epochs; 0 = never
    max_size: int = 640  # long side of the test image (letterboxed to a multiple of 32)
    score_thr: float = 0.02
    nms_thr: float = 0.45
    max_images: int = 0  # 0 = every image found
    backend: str = "torch"  # torch | onnx (CPU: detect through ONNX Runtime on an exported copy)

    def __post_init__(self) -> None:
        C.integer("eval.interval", self.interval, minimum=0)
        C.integer("eval.max_size", self.max_size, minimum=32)
        C.fraction("eval.score_thr", self.score_thr)
        C.fraction("eval.nms_thr", self.nms_thr, open_low=True)
        C.integer("eval.max_images", self.max_images, minimum=0)
        C.choice("eval.backend", self.backend, ("torch", "onnx"))


@dataclass(frozen=True)
class DistillConfig:
    """Knowledge distillation from a frozen teacher (:mod:`facedet.criteria.distill`); ``teacher``
    empty = none. ``teacher`` is a zoo name or a weights file (an official ``.onnx``, our ``.pt``);
    ``teacher_model`` names the preset of a file whose preset cannot be guessed from it."""

    teacher: str = ""
    teacher_model: str = ""
    mode: str = "auto"  # auto (dense when the priors line up, else pseudo) | dense | pseudo
    cls_weight: float = 1.0
    box_weight: float = 1.0
    box_thr: float = 0.1
    beta: float = 2.0
    pseudo_thr: float = 0.5
    feat_weight: float = 0.0  # > 0: also imitate the teacher's neck maps (hint loss, 1x1 adapters)

    def __post_init__(self) -> None:
        C.choice("distill.mode", self.mode, ("auto", "dense", "pseudo"))
        for name in ("cls_weight", "box_weight", "beta", "feat_weight"):
            C.number(f"distill.{name}", getattr(self, name), 0.0)
        C.fraction("distill.box_thr", self.box_thr)
        C.fraction("distill.pseudo_thr", self.pseudo_thr)


@dataclass(frozen=True)
class Config:
    """A training run: ``loss`` holds the family's own settings dataclass (see :class:`NoLossConfig`)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: Any = field(default_factory=NoLossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)


def _number(value: Any, key: str) -> float:
    """A finite real (ints included, bools refused) as float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number, got {value!r}")
    try:
        v = float(value)
    except OverflowError:
        raise ValueError(f"{key}: expected a finite number, got an integer of {len(str(value))} digits") from None
    if not math.isfinite(v):  # no setting of any section means anything at NaN or infinity
        raise ValueError(f"{key}: expected a finite number, got {value!r}")
    return v


def _integer(value: Any, key: str) -> int:
    """An integer (bools and floats refused: ``1.7`` is not silently ``1``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key}: expected an integer, got {value!r}")
    return value


def _coerce(value: Any, default: Any, key: str) -> Any:
    """Convert a parsed override ``value`` to the type of the field's ``default``."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{key}: expected true/false, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, str):
        try:  # YAML 1.1 reads "5e-5" (no dot) as a string
            value = float(value)
        except ValueError:
            pass
    if isinstance(default, tuple):
        if isinstance(value, dict) or value is None:
            raise ValueError(f"{key}: expected a list, got {value!r}")
        items = list(value) if isinstance(value, list | tuple) else [value]
        if any(isinstance(v, list | tuple | dict) or v is None for v in items):
            raise ValueError(f"{key}: expected a flat list of values, got {value!r}")
        proto = default[0] if default else None
        if isinstance(proto, float):
            return tuple(_number(float(v) if isinstance(v, str) and C.is_number_text(v) else v, key) for v in items)
        if isinstance(proto, int):
            return tuple(_integer(v, key) for v in items)
        return tuple(items)
    if isinstance(default, float):
        return _number(value, key)
    if isinstance(default, int):
        return _integer(value, key)
    if isinstance(default, str):
        if isinstance(value, dict | list):
            raise ValueError(f"{key}: expected a text value, got {value!r}")
        return "" if value is None else str(value)
    return value


def _replace_dotted(cfg: Config, key: str, value: Any) -> Config:
    parts = key.split(".")
    if len(parts) != 2:
        raise ValueError(f"override {key!r}: expected section.key (e.g. train.lr)")
    section, name = parts
    sections = {f.name for f in dataclasses.fields(cfg)}
    if section not in sections:
        raise ValueError(f"override {key!r}: unknown section {section!r}; sections: {sorted(sections)}")
    sub = getattr(cfg, section)
    names = {f.name for f in dataclasses.fields(sub)}
    if name not in names:
        raise ValueError(f"override {key!r}: unknown key; {section} keys: {sorted(names)}")
    new_sub = dataclasses.replace(sub, **{name: _coerce(value, getattr(sub, name), key)})
    return dataclasses.replace(cfg, **{section: new_sub})


def apply_overrides(cfg: Config, overrides: list[str] | tuple[str, ...]) -> Config:
    """Apply ``section.key=value`` strings in order; values are parsed as YAML scalars/lists."""
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r}: expected section.key=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ValueError(f"override {item!r}: not a valid value ({getattr(exc, 'problem', None) or exc})") from None
        cfg = _replace_dotted(cfg, key.strip(), value)
    return cfg


def to_dict(cfg: Config) -> dict[str, dict[str, Any]]:
    """Plain nested dict (tuples as lists) for YAML dumping."""
    out: dict[str, dict[str, Any]] = {}
    for f in dataclasses.fields(cfg):
        sub = getattr(cfg, f.name)
        out[f.name] = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(sub).items()}
    return out


def from_dict(data: dict[str, dict[str, Any]], base: Config | None = None) -> Config:
    """Inverse of :func:`to_dict` over ``base`` (default ``Config()``; give the family's config so the
    ``loss`` keys are checked against its dataclass); unknown keys raise ValueError."""
    cfg = base if base is not None else Config()
    for section, values in (data or {}).items():
        for name, value in (values or {}).items():
            cfg = _replace_dotted(cfg, f"{section}.{name}", value)
    return cfg


def dump_yaml(cfg: Config, path: str | Path) -> None:
    """Write the resolved config as YAML (written next to checkpoints)."""
    from facedet.atomic import write_text_atomic

    write_text_atomic(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; malformed YAML or a non-mapping raise ValueError naming file and line."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ValueError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of sections (train:, data:, ...), got {type(data).__name__}")
    return data


def load_yaml(path: str | Path, base: Config | None = None) -> Config:
    """Read a config written by :func:`dump_yaml` over ``base`` (see :func:`from_dict`)."""
    return from_dict(read_yaml(path), base)
