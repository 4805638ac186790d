"""What a family is: one object that brings everything the shared code needs to train, evaluate,
export and run its detectors (DETR's ``build -> (model, criterion, postprocessors)``, YOLOX's ``Exp``).

Types only: this module imports no family. ``families/__init__.py`` holds the one list of families.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..config import Config, DataConfig, NoLossConfig
from ..data.transforms import Compose
from ..models.detector import Detector, DetectorInfo
from ..postprocess.base import Frame, PostProcessor, Settings

if TYPE_CHECKING:
    import argparse

    from torch import nn

    from ..analysis.flops import Complexity
    from ..search import SearchSpace

__all__ = [
    "Budget", "Detector", "DetectorInfo", "Family", "Frame", "OnnxLayout", "PostProcessor", "SearchCommand",
    "Settings", "TTAProtocol", "WeightSource", "ZooEntry",
]

DetectFn = Callable[[np.ndarray, float], np.ndarray]


def needs_torch(*args: Any, **kwargs: Any) -> Any:
    """A family part that needs torch, in an install without it (ONNX Runtime inference only)."""
    from ..lazy import INSTALL_TORCH
    from ..optional import MissingDependency

    raise MissingDependency(f"training, export and the torch backend need torch: {INSTALL_TORCH}")


@dataclass(frozen=True)
class WeightSource:
    """Where a model's weights are published.

    ``url``: a direct download (None when only a web page exists); ``sha256`` of the weights file
    (of ``archive_member`` when ``url`` is a zip holding it; ``archive_sha256`` then pins the zip
    too, where known); ``page``: the official page / share link; ``filename`` in the cache;
    ``licence``: the terms the publisher states.
    """

    filename: str
    url: str | None = None
    sha256: str | None = None
    page: str | None = None
    note: str = ""
    archive_member: str | None = None
    archive_sha256: str | None = None
    licence: str = ""


@dataclass(frozen=True)
class ZooEntry:
    """One zoo model: constructor, published numbers (AP %, params M, FLOPs G), weight source, and the
    importer of its official files (``importer(model, path, **options)``, e.g. an official ``.onnx``)."""

    build: Callable[..., nn.Module]
    published: Mapping[str, Any] = field(default_factory=dict)
    weights: WeightSource | None = None
    importer: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Budget:
    """What a paper recipe is scaled to: the training-set size, and the user's ``--iterations`` /
    ``--batch`` (0: the paper's)."""

    num_images: int
    iterations: int = 0
    batch_size: int = 0


class TTAProtocol(Protocol):
    """A paper's test protocol over a ``detect(image, shrink) -> (N, 5)`` callable (original pixels)."""

    def __call__(self, detect: DetectFn, image: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class OnnxLayout:
    """A foreign ONNX file (no facedet metadata) a family recognises: how to decode it and the
    canonical output names of its outputs, in the file's order."""

    info: DetectorInfo
    output_names: tuple[str, ...]


@dataclass(frozen=True)
class SearchCommand:
    """A search of a family's own, run as ``facedet search NAME`` (``NAME``: its key in
    ``Family.searches``), e.g. a differentiable search of its neck: ``add_arguments(parser)`` adds its
    options (``key=value`` overrides may follow them), ``run(args)`` runs it and returns the exit code."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Family:
    """One detector family.

    - ``zoo``: preset name -> :class:`ZooEntry`.
    - ``criterion(model, cfg)``: the training loss of a built model under ``cfg``.
    - ``augment(model, data_cfg)``: the training augmentation (pads filled with the model's mean).
    - ``postprocess(info, settings, model)``: decoding; ``model`` is None on the ONNX Runtime path.
    - ``loss_config``: the dataclass of this family's ``loss.*`` keys.
    - ``paper_config(cfg, budget)``: ``--recipe paper`` as a typed :class:`Config`, scaled to ``budget``.
    - ``test_time()``: the paper's test protocol (multi-scale, flip, voting), when it has one.
    - ``flops_breakdown(complexity)``: MACs per part, as the paper's tables split them.
    - ``recognise_onnx(output_names)``: a foreign ONNX file of this family (insightface's SCRFD files).
    - ``guess_preset(path)``: the preset of an official file, for ``facedet convert``.
    - ``from_arch(arch, **overrides)``: a model from an architecture dict (an architecture file's
      ``arch``, :mod:`facedet.archfile`), e.g. a search candidate.
    - ``search_space(stage, space, template, gflops)``: the family's architecture-search space
      (:class:`facedet.search.SearchSpace`), for ``facedet search <family>``.
    - ``searches``: name -> :class:`SearchCommand`, the family's own searches (``facedet search <name>``).
    """

    name: str
    zoo: Mapping[str, ZooEntry]
    criterion: Callable[[nn.Module, Config], nn.Module]
    augment: Callable[[Detector, DataConfig], Compose]
    postprocess: Callable[[DetectorInfo, Settings, nn.Module | None], PostProcessor]
    loss_config: type = NoLossConfig
    paper_config: Callable[[Config, Budget], Config] | None = None
    test_time: Callable[[], TTAProtocol] | None = None
    flops_breakdown: Callable[[Complexity], dict[str, int]] | None = None
    recognise_onnx: Callable[[Sequence[str]], OnnxLayout | None] | None = None
    guess_preset: Callable[[Path], str] | None = None
    from_arch: Callable[..., nn.Module] | None = None
    search_space: Callable[..., SearchSpace] | None = None
    searches: Mapping[str, SearchCommand] = field(default_factory=dict)

    @classmethod
    def decoding_only(cls, name: str, postprocess: Callable[[DetectorInfo, Settings, nn.Module | None], PostProcessor],
                      recognise_onnx: Callable[[Sequence[str]], OnnxLayout | None] | None = None) -> Family:
        """The family in an install without torch: it decodes its ONNX files, and the parts that build or
        train a network raise :class:`~facedet.optional.MissingDependency` saying how to get torch."""
        return cls(name=name, zoo={}, criterion=needs_torch, augment=needs_torch, postprocess=postprocess,
                   recognise_onnx=recognise_onnx)
