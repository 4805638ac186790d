"""Family conformance: every entry of ``FAMILIES`` must pass this to be a family.

For the smallest preset of each family: the criterion trains it on synthetic targets (finite loss,
gradients), the post-processor's torch and numpy paths agree on the same raw outputs, the ONNX
export decodes from its metadata alone (as the model-informed path does), the paper recipe and the
test-time protocol run, and ``loss.*`` settings are the family's own dataclass.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
import torch

from facedet import FaceDetector, zoo
from facedet.config import Config
from facedet.export.onnx import check_parity, export_layout, export_onnx
from facedet.export.runtime import OrtModel
from facedet.families import FAMILIES, Family, default_config, family_of
from facedet.families.base import Budget
from facedet.models.detector import DetectorInfo, as_detector
from facedet.models.outputs import HeadOutputs
from facedet.postprocess import Frame, Settings

SIZE = 128  # a multiple of every family's coarsest stride


@cache
def smallest_preset(family: str) -> str:
    """The zoo preset of ``family`` with the fewest parameters (counted on the meta device)."""
    counts = {}
    for name, entry in FAMILIES[family].zoo.items():
        with torch.device("meta"):
            counts[name] = sum(p.numel() for p in entry.build().parameters())
    return min(counts, key=counts.__getitem__)


def _build(family: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return zoo.build_model(smallest_preset(family))


def _targets() -> list[dict[str, torch.Tensor]]:
    return [{"boxes": torch.tensor([[10.0, 12.0, 50.0, 56.0], [70.0, 60.0, 118.0, 120.0]]),
             "landmarks": torch.rand(2, 5, 2) * 40 + 12, "landmark_valid": torch.ones(2)},
            {"boxes": torch.tensor([[30.0, 20.0, 62.0, 60.0]]),
             "landmarks": torch.rand(1, 5, 2) * 30 + 25, "landmark_valid": torch.ones(1)}]


FAMILY_NAMES = list(FAMILIES)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_conformance_family_object(name: str) -> None:
    fam = FAMILIES[name]
    assert isinstance(fam, Family) and fam.name == name and fam.zoo
    model = _build(name)
    assert family_of(model) is fam and family_of(smallest_preset(name)) is fam
    det = as_detector(model)
    assert det.preset == smallest_preset(name) and det.family == name
    cfg = default_config(smallest_preset(name))
    assert isinstance(cfg.loss, fam.loss_config) and dataclasses.is_dataclass(cfg.loss)
    if fam.paper_config is not None:
        paper = fam.paper_config(cfg, Budget(num_images=64))
        assert isinstance(paper, Config) and type(paper.loss) is fam.loss_config


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_conformance_criterion_trains_on_synthetic_targets(name: str) -> None:
    fam = FAMILIES[name]
    model = _build(name).train()
    cfg = default_config(smallest_preset(name))
    criterion = fam.criterion(model, cfg)
    images = torch.randn(2, 3, SIZE, SIZE)
    losses = criterion(model(images), _targets())
    assert torch.isfinite(losses["loss"]) and losses["loss"] > 0
    losses["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0
    transform = fam.augment(as_detector(model), cfg.data)
    assert callable(transform)


def _spread(out: HeadOutputs, seed: int = 0) -> HeadOutputs:
    """Raw outputs of the model's shapes with well-separated scores (random nets give near-ties)."""
    g = torch.Generator().manual_seed(seed)
    cls = [torch.randn(c.shape, generator=g) * 3 for c in out.cls]
    reg = [torch.rand(r.shape, generator=g) * 2 for r in out.reg]
    kps = None if out.kps is None else [torch.rand(k.shape, generator=g) for k in out.kps]
    aux = None if out.aux is None else _spread(out.aux, seed + 1)  # a first shot / first step
    return HeadOutputs(cls, reg, kps, out.feat_sizes, aux=aux)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_conformance_torch_and_numpy_postprocessing_agree(name: str) -> None:
    model = _build(name).eval()
    with torch.no_grad():
        out = _spread(model(torch.zeros(2, 3, SIZE, SIZE)))
    post = FAMILIES[name].postprocess(DetectorInfo.of(model), Settings(0.3, 0.4, max_faces=30), model)
    arrays = {n: t.numpy() for n, t in zip(post.output_names, post.flatten(out), strict=True)}
    frames = [Frame(0.5, (SIZE * 2, SIZE * 2), (SIZE, SIZE)), Frame(1.0, (100, 90), (SIZE, SIZE))]
    got_t, got_n = post.torch(out, frames), post.numpy(arrays, frames)
    assert len(got_t) == len(got_n) == 2
    for a, b in zip(got_t, got_n, strict=True):
        assert 0 < len(a) == len(b) <= 30
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
        assert (a.landmarks is None) == (b.landmarks is None) == (not as_detector(model).has_kps)
    assert got_t[1].boxes[:, 2].max() <= 90 and got_t[1].boxes[:, 3].max() <= 100  # clipped to the image


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_conformance_export_decodes_from_metadata_alone(name: str, tmp_path) -> None:
    model = _build(name).eval()
    assert export_layout(model).export_error is None
    path = export_onnx(model, tmp_path / "m.onnx", input_size=(SIZE, SIZE))
    assert check_parity(model, path, input_size=(SIZE + 32, SIZE), batch=2) < 1e-4
    ort = OrtModel(path)
    assert ort.info == DetectorInfo.of(model)  # family, preset, anchors, coder, landmarks, input normalisation
    assert ort.output_names == list(export_layout(model).output_names)
    img = np.random.default_rng(0).integers(0, 255, (100, 140, 3), dtype=np.uint8)
    opts = {"input_size": None, "max_side": SIZE, "score_threshold": 0.0, "max_faces": 10, "num_threads": 1}
    alone = FaceDetector(path, backend="onnx", **opts).detect(img)  # no torch model anywhere
    informed = FaceDetector(model, backend="onnx", **opts).detect(img)
    assert len(alone) == len(informed) > 0
    np.testing.assert_allclose(alone.boxes, informed.boxes, atol=1e-4)
    np.testing.assert_allclose(alone.scores, informed.scores, atol=1e-6)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_conformance_test_time_protocol(name: str) -> None:
    fam = FAMILIES[name]
    if fam.test_time is None:
        pytest.skip(f"{name} publishes no test-time protocol")
    calls: list[float] = []

    def detect(image: np.ndarray, shrink: float) -> np.ndarray:
        calls.append(shrink)
        return np.array([[10, 10, 40, 40, 0.9], [11, 10, 41, 40, 0.8], [60, 50, 90, 80, 0.7]], np.float64)

    dets = fam.test_time()(detect, np.zeros((120, 160, 3), np.uint8))
    assert calls and dets.ndim == 2 and dets.shape[1] == 5 and len(dets) >= 1
    assert np.all(np.diff(dets[:, 4]) <= 0)  # best first
