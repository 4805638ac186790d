"""The typed contract every detector meets, and the description that decodes its outputs without it.

Shared code (criteria, post-processors, export, the API) reads a model only through
:class:`Detector`: its family, preset, input normalisation, priors (``anchors``), box coder and
whether it predicts landmarks. :class:`DetectorInfo` is that description as a value: built from a
model (:meth:`DetectorInfo.of`) or from an ONNX file's metadata (:meth:`DetectorInfo.from_metadata`),
so an export decodes without its torch model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from ..coders import BoxCoder, coder_from_description
from ..priors import AnchorGrid
from .outputs import HeadOutputs

if TYPE_CHECKING:
    from torch import Tensor, nn

Triple = tuple[float, float, float]
METADATA_PREFIX = "facedet."


@runtime_checkable
class Detector(Protocol):
    """What a facedet detector declares (class or instance attributes) besides being an ``nn.Module``.

    ``input_mean`` / ``input_std`` are scalars or per-channel triples in the model's channel order
    (RGB when ``input_rgb``); ``forward(images (B, 3, H, W)) -> HeadOutputs`` with raw tensors only.
    """

    family: str
    preset: str | None
    input_mean: float | Triple
    input_std: float | Triple
    input_rgb: bool
    has_kps: bool
    anchors: AnchorGrid
    coder: BoxCoder

    def __call__(self, images: Tensor) -> HeadOutputs: ...


_ATTRS = ("family", "input_mean", "input_std", "input_rgb", "has_kps", "anchors", "coder")


def as_detector(model: nn.Module) -> Detector:
    """``model`` typed as a :class:`Detector`; ValueError naming what it lacks otherwise."""
    missing = [a for a in _ATTRS if not hasattr(model, a)]
    if missing:
        raise ValueError(f"{type(model).__name__} is not a facedet detector: it lacks {', '.join(missing)} "
                         "(see facedet.models.detector.Detector)")
    return cast(Detector, model)


def _triple(v: float | Triple | list[float]) -> Triple:
    if isinstance(v, int | float):
        return (float(v),) * 3
    t = tuple(float(x) for x in v)
    if len(t) != 3:
        raise ValueError(f"expected a scalar or 3 values, got {v!r}")
    return (t[0], t[1], t[2])


@dataclass(frozen=True)
class DetectorInfo:
    """Everything needed to pre-process for and decode a detector, without its weights."""

    family: str
    anchors: AnchorGrid
    coder: BoxCoder
    has_kps: bool = False
    input_mean: Triple = (0.0, 0.0, 0.0)
    input_std: Triple = (1.0, 1.0, 1.0)
    input_rgb: bool = True
    preset: str | None = None

    @classmethod
    def of(cls, model: nn.Module) -> DetectorInfo:
        det = as_detector(model)
        return cls(det.family, det.anchors, det.coder, bool(det.has_kps), _triple(det.input_mean),
                   _triple(det.input_std), bool(det.input_rgb), getattr(model, "preset", None))

    def to_metadata(self) -> dict[str, str]:
        """ONNX ``metadata_props`` (string values; priors, coder and input as JSON)."""
        p = METADATA_PREFIX
        return {f"{p}family": self.family, f"{p}preset": self.preset or "",
                f"{p}anchors": json.dumps(self.anchors.describe()), f"{p}coder": json.dumps(self.coder.describe()),
                f"{p}kps": json.dumps(self.has_kps),
                f"{p}input": json.dumps({"mean": self.input_mean, "std": self.input_std, "rgb": self.input_rgb})}

    @classmethod
    def from_metadata(cls, meta: Mapping[str, str]) -> DetectorInfo | None:
        """Inverse of :meth:`to_metadata`; None when ``meta`` holds no facedet description."""
        p = METADATA_PREFIX
        if f"{p}family" not in meta:
            return None
        try:
            inp = json.loads(meta[f"{p}input"])
            return cls(meta[f"{p}family"], AnchorGrid.from_description(json.loads(meta[f"{p}anchors"])),
                       coder_from_description(json.loads(meta[f"{p}coder"])), bool(json.loads(meta[f"{p}kps"])),
                       _triple(inp["mean"]), _triple(inp["std"]), bool(inp["rgb"]), meta.get(f"{p}preset") or None)
        except (KeyError, ValueError, TypeError) as err:
            raise ValueError(f"malformed facedet ONNX metadata: {err}") from None
