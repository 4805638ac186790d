"""``facedet data ignore-unlabelled``: a detector's unlabelled confident faces become ignore regions."""

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


def test_atomic_write_leaves_the_old_file_on_error(tmp_path) -> None:
    from facedet.atomic import atomic_open, write_text_atomic

    target = tmp_path / "config.yaml"
    write_text_atomic(target, "old\n")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as fh:
        fh.write("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["config.yaml"]
