"""Every user-facing number is checked where it enters; one detector serves several threads."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from facedet import FaceDetector
from facedet.postprocess import Settings
from facedet.preprocess import Letterbox

from .tiny_model import TinySCRFD


@pytest.mark.parametrize("kwargs, msg", [
    (dict(score_threshold=math.nan), "score_threshold must be a finite number"),
    (dict(score_threshold=-0.1), "score_threshold must be in"),
    (dict(nms_threshold=2.0), "nms_threshold must be in"),
    (dict(nms_threshold=0.0), "nms_threshold must be in"),
    (dict(max_faces=-1), "max_faces must be >= 1"),
    (dict(max_faces=2.5), "max_faces must be an integer"),
])
def test_settings_refuse_nonsense(kwargs, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        Settings(**kwargs)


@pytest.mark.parametrize("kwargs, msg", [
    (dict(input_size=(0, 640)), "input_size must be >= 1"),
    (dict(input_size=(650, 640)), "multiples of 32"),
    (dict(input_size=None, max_side=0), "max_side must be >= 32"),
])
def test_letterbox_refuses_nonsense(kwargs, msg) -> None:
    with pytest.raises(ValueError, match=msg):
        Letterbox(**kwargs)


def test_detector_refuses_bad_device_threads_backend() -> None:
    with pytest.raises(ValueError, match="device must be auto, cpu, cuda or cuda:N; got 'gpu'"):
        FaceDetector(TinySCRFD(), device="gpu")
    with pytest.raises(ValueError, match="num_threads must be >= 0"):
        FaceDetector(TinySCRFD(), num_threads=-2)
    with pytest.raises(ValueError, match="backend must be one of auto, torch, onnx"):
        FaceDetector(TinySCRFD(), backend="tensorrt")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            FaceDetector(TinySCRFD(), device="cuda")


def test_one_detector_shared_by_threads_gives_each_its_own_faces() -> None:
    det = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(2)]  # same canvas size
    expected = [det.detect(im).boxes for im in images]
    assert not np.array_equal(expected[0], expected[1])
    wrong: list[int] = []

    def work(k: int) -> None:
        for _ in range(30):
            if not np.array_equal(det.detect(images[k]).boxes, expected[k]):
                wrong.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in (0, 1, 0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_a_zoo_name_must_match_the_onnx_file_it_is_given(tmp_path) -> None:
    from facedet.export.onnx import export_onnx
    from facedet.zoo import build_model

    path = export_onnx(build_model("scrfd_500m").eval(), tmp_path / "scrfd.onnx", input_size=(128, 128))
    with pytest.raises(ValueError, match="holds a scrfd detector, but model='extd_fpn_32' is extd"):
        FaceDetector("extd_fpn_32", weights=path, backend="onnx")
    with pytest.raises(ValueError, match="is an export of scrfd_500m, not scrfd_1g"):
        FaceDetector("scrfd_1g", weights=path, backend="onnx")
    assert FaceDetector("scrfd_500m", weights=path, backend="onnx").info.family == "scrfd"


def test_ranking_min_size_batching_and_repr() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    every = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128)).detect(image)
    assert len(every) > 5
    b = every.boxes
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    big = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128), max_faces=3, rank="area")
    got = big.detect(image)
    np.testing.assert_allclose(np.sort(got.boxes[:, 2] - got.boxes[:, 0]),
                               np.sort((b[:, 2] - b[:, 0])[np.argsort(-area)[:3]]))
    assert np.all(np.diff(got.scores) <= 0)  # still in score order
    side = np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    cut = float(np.median(side))
    sized = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128), min_face_size=cut).detect(image)
    assert len(sized) == int((side >= cut).sum())
    det = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128))
    images = [image, image[:, ::-1].copy(), image[::-1].copy()]
    for one, two in zip(det.detect_batch(images), det.detect_batch(images, batch_size=2), strict=True):
        np.testing.assert_allclose(one.boxes, two.boxes, atol=1e-4)
    text = repr(det)
    assert text.startswith("FaceDetector(") and "backend='torch'" in text and "input_size=(128, 128)" in text
    with pytest.raises(ValueError, match="rank must be one of score, area, center"):
        FaceDetector(TinySCRFD(), rank="size")


def test_auto_backend_picks_onnx_runtime_for_an_onnx_file(tmp_path) -> None:
    from facedet.api import ort_providers_for
    from facedet.export.onnx import export_onnx
    from facedet.zoo import build_model

    path = export_onnx(build_model("scrfd_500m").eval(), tmp_path / "m.onnx", input_size=(128, 128))
    det = FaceDetector(str(path))
    assert det.backend == "onnx" and det.providers == ["CPUExecutionProvider"] and "providers=" in repr(det)
    cuda_first = ort_providers_for(torch.device("cuda"))
    assert cuda_first[0][0] == "CUDAExecutionProvider" and cuda_first[-1] == "CPUExecutionProvider"
    assert ort_providers_for(torch.device("cpu")) == ["CPUExecutionProvider"]


def test_the_onnx_export_of_packaged_weights_is_cached() -> None:
    import os

    from facedet.zoo import default_cache_dir

    first = FaceDetector("scrfd_500m", backend="onnx", input_size=(128, 128))
    files = list((default_cache_dir().parent / "onnx").glob("scrfd_500m-*.onnx"))
    assert len(files) == 1
    stamp = os.stat(files[0]).st_mtime_ns
    second = FaceDetector("scrfd_500m", backend="onnx", input_size=(128, 128))
    assert os.stat(files[0]).st_mtime_ns == stamp  # reused, not exported again
    image = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    np.testing.assert_allclose(first.detect(image).boxes, second.detect(image).boxes)


def test_size_filter_runs_before_the_score_cap_and_tiny_images_work() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    every = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128)).detect(image)
    side = np.minimum(every.boxes[:, 2] - every.boxes[:, 0], every.boxes[:, 3] - every.boxes[:, 1])
    cut = float(np.sort(side)[-2])  # only the two largest faces pass
    best = FaceDetector(TinySCRFD(), score_threshold=0.05, input_size=(128, 128), max_faces=1,
                        min_face_size=cut).detect(image)
    assert len(best) == 1 and best.scores[0] == every.scores[side >= cut].max()
    for size in (10, 31, 32):  # the coarsest map keeps two cells: no GroupNorm failure on torch
        assert len(FaceDetector(score_threshold=0.5).detect(np.full((size, size, 3), 128, np.uint8))) == 0
