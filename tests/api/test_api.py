"""FaceDetector over a tiny SCRFD-layout model: inputs, batching, backends, errors."""

import json

import cv2
import numpy as np
import pytest

from facedet import Detections, FaceDetector

from .tiny_model import TinySCRFD


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(TinySCRFD(), score_threshold=0.3, input_size=(128, 128))


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)


def test_inputs_agree(detector, image, tmp_path):
    ref = detector.detect(image)
    assert isinstance(ref, Detections) and len(ref) > 0
    path = tmp_path / "x.png"
    cv2.imwrite(str(path), image)
    for other in (detector.detect(path), detector.detect(str(path)), detector.detect(path.read_bytes()),
                  detector.detect(np.ascontiguousarray(image[:, :, ::-1]), color="rgb")):
        np.testing.assert_allclose(other.boxes, ref.boxes, atol=1e-4)
    assert np.all(np.diff(ref.scores) <= 0)
    d = json.loads(ref.to_json())
    assert len(d["faces"]) == len(ref) and len(d["faces"][0]["landmarks"]) == 5
    faces = list(ref)
    assert faces[0].score == pytest.approx(float(ref.scores[0]))


def test_batch_equals_single(detector, image):
    other = np.ascontiguousarray(np.flipud(image))
    batch = detector.detect_batch([image, other, image[:60]])
    for got, img in zip(batch, [image, other, image[:60]], strict=True):
        single = detector.detect(img)
        np.testing.assert_allclose(got.boxes, single.boxes, atol=1e-4)


@pytest.mark.parametrize(
    "bad, msg",
    [(np.zeros((10, 10, 3), np.float32), "uint8"), (np.zeros((10, 10, 2), np.uint8), "shape"),
     (b"", "empty"), (b"not an image", "decodable"), (3, "unsupported")],
)
def test_bad_input_errors(detector, bad, msg):
    with pytest.raises(ValueError, match=msg):
        detector.detect(bad)


def test_missing_and_empty_file(detector, tmp_path):
    with pytest.raises(FileNotFoundError):
        detector.detect(tmp_path / "nope.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        detector.detect(tmp_path / "empty.jpg")


def test_onnx_backend_matches_torch(image):
    model = TinySCRFD()
    torch_det = FaceDetector(model, score_threshold=0.3, input_size=(128, 128))
    ort_det = FaceDetector(model, backend="onnx", score_threshold=0.3, input_size=(128, 128), num_threads=1)
    a, b = torch_det.detect(image), ort_det.detect(image)
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-3)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
    # batch of two through ORT (dynamic batch axis)
    both = ort_det.detect_batch([image, image])
    np.testing.assert_allclose(both[1].boxes, b.boxes, atol=1e-3)


def test_detect_video(detector, image, tmp_path):
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (120, 90))
    for _ in range(5):
        writer.write(image)
    writer.release()
    frames = list(detector.detect_video(str(path), every=2))
    assert [i for i, _ in frames] == [0, 2, 4]
    assert all(isinstance(d, Detections) for _, d in frames)


@pytest.mark.parametrize("source, exc, msg", [
    ("{d}", ValueError, "not a regular file"),
    ("{d}/empty.mp4", ValueError, "empty file"),
    ("{d}/absent.mp4", FileNotFoundError, "no such video file"),
    ("{d}/junk.mp4", ValueError, "cannot open video"),
    (-1, ValueError, "camera index must be"),
])
def test_detect_video_checks_its_source_before_opencv(detector, tmp_path, source, exc, msg):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.mp4").write_bytes(np.random.default_rng(0).bytes(4096))
    src = source.format(d=tmp_path) if isinstance(source, str) else source
    with pytest.raises(exc, match=msg):
        next(detector.detect_video(src))
    with pytest.raises(ValueError, match="every must be"):
        next(detector.detect_video(str(tmp_path / "junk.mp4"), every=0))


@pytest.mark.parametrize("arr", [np.zeros((0, 5), np.uint8), np.zeros((4, 0, 3), np.uint8),
                                 np.zeros((4, 4, 2), np.uint8), np.zeros((4, 4, 3, 1), np.uint8)])
def test_odd_arrays_are_refused_before_opencv(detector, arr):
    with pytest.raises(ValueError, match="image array"):
        detector.detect(arr)
