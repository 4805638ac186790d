"""``python -m facedet.demo`` (what ``make demo`` runs) writes an annotated image and its JSON."""

import json

import numpy as np

from facedet import demo


def test_demo_writes_image_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "SAMPLE", tmp_path / "absent.jpg")  # force the synthetic image
    assert demo.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out
    data = json.loads((tmp_path / "synthetic_faces.json").read_text())
    assert data["model"] == "scrfd_500m" and isinstance(data["faces"], list)
    assert (tmp_path / "synthetic_faces.jpg").stat().st_size > 0


def test_synthetic_image_is_deterministic():
    a, b = demo._synthetic_image(), demo._synthetic_image()
    assert a.shape == (480, 640, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
