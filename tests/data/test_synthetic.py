"""Synthetic WIDER-layout generator: what it writes reads back exactly; deterministic; official .mat files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facedet.data import load_dataset, load_label_txt, load_wider, load_wider_mat
from facedet.data.synthetic import SyntheticConfig, keep_lists, write_synthetic_wider

CFG = SyntheticConfig(num_images=16, image_size=(160, 128), face_sizes=(8, 120), max_faces=6,
                      empty_fraction=0.2, invalid_fraction=0.2)


@pytest.fixture(scope="module")
def val_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    root = tmp_path_factory.mktemp("synth")
    return root, write_synthetic_wider(root, "val", CFG, seed=3)


def _same(a, b, landmarks: bool = False) -> None:
    assert a.path == b.path and a.event == b.event
    np.testing.assert_array_equal(a.boxes, b.boxes)
    np.testing.assert_array_equal(a.ignore, b.ignore)
    if landmarks:
        np.testing.assert_array_equal(a.landmark_valid, b.landmark_valid)
        np.testing.assert_array_equal(a.landmarks, b.landmarks)


def test_generated_data_has_the_promised_variety(val_root) -> None:
    _, truth = val_root
    assert len(truth) == 16
    assert any(len(r.boxes) == 0 for r in truth)
    assert sum(len(r.ignore) for r in truth) > 0
    heights = np.concatenate([r.boxes[:, 3] - r.boxes[:, 1] for r in truth])
    assert heights.min() >= 8 and heights.max() <= 120
    assert heights.min() < 16 and heights.max() > 48
    assert {r.event for r in truth} == {"0--Synthetic", "1--Synthetic", "2--Synthetic"}
    for r in truth:
        img = cv2.imread(r.path)
        assert img.shape == (128, 160, 3)
        plain = (r.attributes["blur"] == 0) & (r.attributes["illumination"] == 0) & (r.attributes["occlusion"] == 0)
        for x1, y1, x2, y2 in r.boxes[plain & (r.boxes[:, 3] - r.boxes[:, 1] >= 24)].astype(int):
            b, _, red = img[y1 + (y2 - y1) // 4, (x1 + x2) // 2]  # forehead: skin, red above blue
            assert int(red) > int(b) + 20


def test_bbx_gt_round_trip(val_root) -> None:
    root, truth = val_root
    back = load_wider(root, "val")
    assert (len(back), back.skipped) == (len(truth), 0)
    for a, b in zip(truth, back, strict=True):
        _same(a, b)
        for k, v in a.attributes.items():
            np.testing.assert_array_equal(v, b.attributes[k])
    assert back.notes["placeholder_rows"] == sum(len(r.boxes) + len(r.ignore) == 0 for r in truth)


def test_label_txt_round_trip_with_landmarks(val_root) -> None:
    root, truth = val_root
    back = load_label_txt(root / "WIDER_val" / "label.txt")
    for a, b in zip(truth, back, strict=True):
        _same(a, b, landmarks=True)
        assert b.size == (160, 128)
    valid = np.concatenate([r.landmark_valid for r in truth])
    heights = np.concatenate([r.boxes[:, 3] - r.boxes[:, 1] for r in truth])
    np.testing.assert_array_equal(valid, heights >= CFG.landmark_min_height)
    assert load_dataset(root / "WIDER_val" / "label.txt").listed == len(truth)


def test_ground_truth_mat_files(val_root) -> None:
    from facedet.eval.wider_gt import load_ground_truth

    root, truth = val_root
    gt = load_ground_truth(root / "ground_truth")
    assert [(g.event, g.name) for g in gt.images] == [(r.event, r.name) for r in truth]
    for g, r in zip(gt.images, truth, strict=True):
        xyxy = np.concatenate([g.boxes_xywh[:, :2], g.boxes_xywh[:, :2] + g.boxes_xywh[:, 2:]], axis=1)
        np.testing.assert_array_equal(xyxy[~g.invalid], r.boxes if len(r.boxes) or len(r.ignore) else [[0, 0, 0, 0]])
        np.testing.assert_array_equal(xyxy[g.invalid], r.ignore)
        easy, medium, hard = (set(g.keep[s].tolist()) for s in ("easy", "medium", "hard"))
        assert easy <= medium <= hard
        h = g.boxes_xywh[:, 3]
        for s, t in CFG.keep_min_height.items():  # kept <=> valid and tall enough
            expected = {i + 1 for i in range(len(h)) if not g.invalid[i] and h[i] >= t}
            assert set(g.keep[s].tolist()) == expected
    mat = load_wider_mat(root / "ground_truth" / "wider_face_val.mat", root / "WIDER_val" / "images")
    for a, b in zip(truth, mat, strict=True):
        _same(a, b)


def test_keep_lists_rule() -> None:
    boxes = np.array([[0, 0, 5, 40], [0, 0, 5, 20], [0, 0, 5, 11], [0, 0, 5, 10], [0, 0, 5, 50]])
    keep = keep_lists(boxes, np.array([0, 0, 0, 0, 1], bool), {"easy": 32, "medium": 16, "hard": 11})
    assert {k: v.tolist() for k, v in keep.items()} == {"easy": [1], "medium": [1, 2], "hard": [1, 2, 3]}


def test_deterministic_by_seed(tmp_path: Path) -> None:
    cfg = SyntheticConfig(num_images=4, image_size=(96, 96), face_sizes=(8, 80))
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        write_synthetic_wider(tmp_path / name, "train", cfg, seed=np.random.default_rng(seed))
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 6  # 4 images, bbx_gt.txt, label.txt
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    gt = Path("wider_face_split/wider_face_train_bbx_gt.txt")
    assert (tmp_path / "a" / gt).read_bytes() != (tmp_path / "c" / gt).read_bytes()


def test_rejects_non_nested_keep_thresholds(tmp_path: Path) -> None:
    cfg = SyntheticConfig(num_images=1, keep_min_height={"easy": 10, "medium": 16, "hard": 11})
    with pytest.raises(ValueError, match="easy >= medium >= hard"):
        write_synthetic_wider(tmp_path, "val", cfg)
