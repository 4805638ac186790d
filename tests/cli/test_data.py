"""``facedet data ignore-unlabelled`` and ``pseudo-label``: a detector's faces as ignore regions or labels."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.cli import main
from facedet.data import load_dataset
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider


def test_ignore_unlabelled_adds_only_uncovered_detections(tmp_path, monkeypatch, capsys) -> None:
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=3, image_size=(64, 64),
                                                                          empty_fraction=0.0), seed=0)
    before = load_dataset(tmp_path / "wider")

    class Fake:
        """Sees each image once, in order: one box on its first label, one far from every label."""

        def __init__(self, *args, **kwargs) -> None:
            self.calls = 0

        def detect(self, image):
            from types import SimpleNamespace

            self.calls += 1
            rec = before[self.calls - 1]
            return SimpleNamespace(boxes=np.concatenate([rec.boxes[:1], [[1000, 1000, 1020, 1020]]]).astype(np.float32))

    monkeypatch.setattr("facedet.api.FaceDetector", Fake)
    out = tmp_path / "out"
    args = ["data", "ignore-unlabelled", str(tmp_path / "wider"), "--out", str(out), "--weights", "w.onnx",
            "--no-progress"]
    assert main(args) == 0
    assert "3 unlabelled detections" in capsys.readouterr().out
    after = load_dataset(out / "label.txt")
    assert len(after) == len(before)
    for a, b in zip(before, after, strict=True):
        np.testing.assert_allclose(a.boxes, b.boxes, atol=0.005)
        assert len(b.ignore) == len(a.ignore) + 1
        np.testing.assert_allclose(b.ignore[-1], [1000, 1000, 1020, 1020])
    assert main(args) == 2  # never overwrites without --force
    assert "--force" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    capsys.readouterr()
    # --snap-iou: each first label equals its detection (IoU 1), so it stays put and is counted as snapped
    assert main(args + ["--force", "--snap-iou", "0.5"]) == 0
    assert "3 labels snapped" in capsys.readouterr().out
    assert main(args + ["--force", "--snap-iou", "0"]) == 2
    assert "--snap-iou" in capsys.readouterr().err


def test_atomic_write_leaves_the_old_file_on_error(tmp_path) -> None:
    from facedet.atomic import atomic_open, write_text_atomic

    target = tmp_path / "config.yaml"
    write_text_atomic(target, "old\n")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_pseudo_label_writes_faces_and_ignore_regions_and_names_a_bad_image(tmp_path, monkeypatch, capsys) -> None:
    import cv2

    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        cv2.imwrite(str(images / name), np.full((40, 60, 3), 128, np.uint8))
    (images / "broken.jpg").write_bytes(b"not a jpeg")

    class Fake:
        """a: a face and an unsure box; b: only a low score (no face, so left out); c: two faces."""

        def __init__(self, *args, **kwargs) -> None:
            assert kwargs["score_threshold"] == 0.2  # it must see the unsure detections too

        def detect(self, image):
            from types import SimpleNamespace

            self.calls = getattr(self, "calls", 0) + 1
            table = {1: ([[1, 1, 21, 21], [30, 5, 50, 25]], [0.9, 0.3]), 2: ([[1, 1, 21, 21]], [0.25]),
                     3: ([[1, 1, 21, 21], [30, 5, 50, 25]], [0.8, 0.6])}
            boxes, scores = table[self.calls]
            return SimpleNamespace(boxes=np.array(boxes, np.float32), scores=np.array(scores, np.float32))

    monkeypatch.setattr("facedet.api.FaceDetector", Fake)
    out = tmp_path / "out"
    args = ["data", "pseudo-label", str(images), "--out", str(out), "--weights", "w.onnx", "--no-progress"]
    assert main(args) == 1  # one unreadable image: named, left out, exit status says so
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err
    assert "2 of 4 images, 3 faces" in captured.out and "1 ignore regions" in captured.out
    recs = load_dataset(out / "label.txt")
    assert [r.name for r in recs] == ["a", "c"]
    np.testing.assert_allclose(recs[0].boxes, [[1, 1, 21, 21]])
    np.testing.assert_allclose(recs[0].ignore, [[30, 5, 50, 25]])
    assert recs[0].size == (60, 40) and len(recs[1].boxes) == 2 and len(recs[1].ignore) == 0
    assert main(args) == 2 and "--force" in capsys.readouterr().err  # never overwrites without --force
    assert main(["data", "pseudo-label", str(images), "--out", str(tmp_path / "o2"), "--weights", "w",
                 "--threshold", "0.1", "--ignore-threshold", "0.3"]) == 2
    assert "ignore_thr <= face_thr" in capsys.readouterr().err
