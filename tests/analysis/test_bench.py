"""Speed-benchmark harness and peers: row bookkeeping, ratio table, peers run on a real image."""

import numpy as np
import pytest

from facedet.analysis.bench import BenchRow, format_table, run
from tests.conftest import shared_path


def test_run_interleaves_and_reports_every_config():
    calls: list[str] = []

    def factory(tag):
        return lambda threads: (lambda img: calls.append(f"{tag}{img.shape[1]}"))

    specs = [("ours:x", "onnxruntime", factory("a")), ("peer", "opencv", factory("b"))]
    rows = run(specs, [(64, 48), (32, 16)], [1], rounds=3, warmup=1, progress=False)
    assert [(r.detector, r.size, r.threads) for r in rows] == [
        ("ours:x", "64x48", 1), ("peer", "64x48", 1), ("ours:x", "32x16", 1), ("peer", "32x16", 1)]
    # warm-up a, b then three interleaved rounds a b a b a b
    assert calls[:8] == ["a64", "b64", "a64", "b64", "a64", "b64", "a64", "b64"]
    assert all(r.p90_ms >= r.median_ms >= 0 for r in rows)


def test_table_ratios():
    rows = [BenchRow("ours:m", "onnxruntime", "640x480", 1, 10.0, 12.0),
            BenchRow("yunet", "opencv", "640x480", 1, 25.0, 30.0)]
    table = format_table(rows, reference="ours:m")
    assert "| yunet | opencv | 640x480 | 1 | 25.00 | 30.00 | 2.50 |" in table
    assert "| 1.00 |" in table


def test_peers_detect_faces_on_a_real_image(tmp_path):
    import cv2

    from facedet.analysis.peers import Haar, UltraLight, YuNet

    weights = shared_path("weights", "peers")
    img = cv2.imread(str(shared_path("data", "widerface", "WIDER_val", "images", "1--Handshaking",
                                     "1_Handshaking_Handshaking_1_236.jpg")))
    peers = [YuNet(weights / "yunet_n_dynamic.onnx", cache_dir=tmp_path), UltraLight(weights / "ulfd_rfb_640.onnx")]
    if Haar.available():  # some OpenCV wheels ship no cascade data; the harness skips Haar there too
        peers.append(Haar())
    for det in peers:
        out = det(img)
        assert out.ndim == 2 and out.shape[1] == 5
        assert np.all(out[:, 2] > out[:, 0])
    assert len(YuNet(weights / "yunet_n_dynamic.onnx", cache_dir=tmp_path)(img)) > 0


def test_stage_breakdown_reports_each_stage():
    from facedet import FaceDetector
    from facedet.analysis.bench import stage_breakdown
    from tests.api.tiny_model import TinySCRFD

    det = FaceDetector(TinySCRFD(), backend="onnx", input_size=(128, 128), num_threads=1)
    st = stage_breakdown(det, np.zeros((90, 120, 3), np.uint8), runs=3)
    assert list(st) == ["letterbox", "normalise", "network", "postprocess"]
    assert all(v >= 0 for v in st.values())


def test_haar_without_cascade_data_is_a_clear_error(monkeypatch):
    from facedet.analysis import peers

    monkeypatch.setattr(peers.Haar, "cascade_path", staticmethod(lambda: None))
    assert not peers.Haar.available()
    with pytest.raises(ValueError, match="no Haar cascade"):
        peers.Haar()
