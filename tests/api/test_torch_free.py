"""ONNX Runtime inference without torch: an exported file detects in a process where torch cannot be
imported, with the same faces as in a process that has it; torch-only paths say what to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from facedet import FaceDetector
from tests.api.tiny_model import TinySCRFD

SRC = Path(__file__).resolve().parents[2] / "src"

# run in a fresh interpreter where every ``import torch`` fails, as on an install without torch
NO_TORCH = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith(("torch.", "torchvision")):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Block())
sys.path.insert(0, sys.argv[1])
import cv2
from facedet import FaceDetector
mode = sys.argv[2]
if mode == "detect":
    det = FaceDetector(sys.argv[3], score_threshold=0.05)
    d = det.detect(cv2.imread(sys.argv[4]))
    print(json.dumps({"backend": det.backend, "boxes": d.boxes.tolist(), "scores": d.scores.tolist(),
                      "torch": "torch" in sys.modules}))
else:
    import facedet
    errors = []
    for call in (lambda: FaceDetector("scrfd_500m"), facedet.list_models):
        try:
            call()
        except Exception as exc:
            errors.append({"error": type(exc).__name__, "message": str(exc)})
    print(json.dumps(errors))
"""


def _run(*args: str) -> Any:
    out = subprocess.run([sys.executable, "-c", NO_TORCH, str(SRC), *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_an_onnx_file_detects_without_torch(tmp_path):
    from facedet.export.onnx import export_onnx

    onnx_file = export_onnx(TinySCRFD(seed=3).eval(), tmp_path / "tiny.onnx")
    rng = np.random.default_rng(0)
    img_path = tmp_path / "img.png"
    cv2.imwrite(str(img_path), rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    got = _run("detect", str(onnx_file), str(img_path))
    assert got["backend"] == "onnx" and got["torch"] is False
    want = FaceDetector(str(onnx_file), score_threshold=0.05).detect(cv2.imread(str(img_path)))
    assert len(want) > 0
    np.testing.assert_allclose(np.asarray(got["boxes"]).reshape(-1, 4), want.boxes, rtol=0, atol=1e-4)
    np.testing.assert_allclose(got["scores"], want.scores, rtol=0, atol=1e-6)


def test_torch_paths_say_what_to_install():
    got = _run("zoo")  # a zoo name, and the zoo's list
    assert [e["error"] for e in got] == ["MissingDependency", "MissingDependency"]
    assert all("pip install torch" in e["message"] and "download.pytorch.org/whl/cpu" in e["message"] for e in got)


def test_ort_devices_compare_with_torch_devices_and_bad_ones_are_refused():
    import torch

    from facedet.api import OrtDevice, _ort_device

    assert torch.device("cpu") == OrtDevice("cpu") and OrtDevice("cuda", 0) == "cuda:0"
    assert _ort_device(torch.device("cuda:1")) == OrtDevice("cuda", 1)
    for bad in (0, None, "gpu"):
        with pytest.raises(ValueError, match="device must be auto, cpu, cuda"):
            _ort_device(bad)


@pytest.mark.parametrize("name", ["torch", "torch.nn"])
def test_the_lazy_module_imports_on_first_use(name):
    from facedet.lazy import LazyModule

    mod = LazyModule(name)
    assert mod.__name__ == name and hasattr(mod, "Tensor" if name == "torch" else "Module")
