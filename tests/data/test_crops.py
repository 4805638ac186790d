"""EXTD / Group Sampling / AInnoFace training crops: both data-anchor-sampling scale rules, SSD windows, scale jitter,
and the shared warp (centre rule, clipping, small faces as ignore regions)."""

from __future__ import annotations

import numpy as np
import pytest

from facedet.config import DataConfig
from facedet.data.crops import (
    DataAnchorSampling,
    PyramidBoxAnchorSampling,
    ScaleJitterCrop,
    SSDSquareCrop,
    ainnoface_train_transforms,
    extd_train_transforms,
)
from facedet.data.loader import FaceDataset
from facedet.data.records import ImageRecord
from facedet.data.transforms import Sample, warp_crop


def _sample(w: int = 400, h: int = 300, boxes=((100, 80, 120, 100),)) -> Sample:
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 1] = 200
    return Sample(img, np.asarray(boxes, np.float32).reshape(-1, 4), ignore=np.zeros((0, 4), np.float32))


def test_anchor_sampling_target_scales_follow_the_reference_rule() -> None:
    das = DataAnchorSampling(640)
    rng = np.random.default_rng(0)
    # side 20 -> nearest anchor 16 (index 0) -> target 16 or 32, then x 2^U(-1, 1)
    sizes = np.array([das.ratio(20.0, 400, 300, rng) * 20.0 for _ in range(400)])
    assert sizes.min() >= 8 - 1e-9 and sizes.max() <= 64 + 1e-9
    assert (sizes > 32).any() and (sizes < 16).any()
    # side 300 -> nearest 256 (index 4) -> any of the 6 scales, up to 512 * 2
    sizes = np.array([das.ratio(300.0, 4000, 3000, rng) * 300.0 for _ in range(400)])
    assert sizes.max() > 512 and sizes.min() < 16
    # side 24 is as close to 16 as to 32: the first (16) wins, so the target is never 64
    assert max(das.ratio(24.0, 400, 300, rng) * 24.0 for _ in range(300)) <= 64 + 1e-9
    # the scaled image area is capped at max_side^2
    small = DataAnchorSampling(640, max_side=1000)
    assert small.ratio(4.0, 2000, 2000, np.random.default_rng(1)) <= 0.5 + 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_anchor_sampling_keeps_the_chosen_face_at_its_new_scale(seed: int) -> None:
    das = DataAnchorSampling(128, min_size=0)
    s = _sample()
    rng = np.random.default_rng(seed)
    replay = np.random.default_rng(seed)
    replay.integers(1)  # the face pick, as __call__ draws it
    ratio = das.ratio(float(np.sqrt(21 * 21)), 400, 300, replay)
    out = das(s, rng)
    assert out.image.shape == (128, 128, 3)
    assert len(out.boxes) == 1  # the only face is always inside the window
    side = out.boxes[0, 2:] - out.boxes[0, :2]
    assert np.allclose(side, 20 * ratio, rtol=1e-4)  # replaying the draws: same ratio
    assert (out.boxes >= 0).all() and (out.boxes <= 128).all()


def test_ssd_windows_are_squares_holding_a_whole_face() -> None:
    crop = SSDSquareCrop(96)
    boxes = np.array([[30, 40, 60, 70], [300, 200, 320, 230]], np.float64)
    found = crop.windows(400, 300, boxes, np.random.default_rng(0))
    assert 1 <= len(found) <= 5
    for r in found:
        assert r[2] - r[0] == pytest.approx(r[3] - r[1], abs=1)
        assert r[0] >= 0 and r[1] >= 0 and r[2] <= 400 and r[3] <= 300
        inside = (boxes[:, :2] >= r[:2]).all(1) & (boxes[:, 2:] <= r[2:]).all(1)
        assert inside.any()
    out = crop(_sample(boxes=boxes), np.random.default_rng(0))
    assert out.image.shape == (96, 96, 3) and len(out.boxes) >= 1
    assert (out.boxes >= 0).all() and (out.boxes <= 96).all()


def test_scale_jitter_scales_faces_by_a_quarter_multiple() -> None:
    crop = ScaleJitterCrop(256, min_size=0)
    s = _sample(boxes=((150, 120, 190, 160),))
    ratios = set()
    for seed in range(40):
        out = crop(s, np.random.default_rng(seed))
        assert out.image.shape == (256, 256, 3)
        if len(out.boxes):
            w = out.boxes[0, 2] - out.boxes[0, 0]
            if 0 < out.boxes[0, 0] and out.boxes[0, 2] < 256:  # not clipped
                ratios.add(round(float(w) / 40, 4))
    assert ratios and ratios <= {0.25 * n for n in range(1, 9)}
    assert len(ratios) >= 3


def test_warp_crop_centre_rule_clipping_and_small_faces() -> None:
    s = _sample(boxes=((0, 0, 20, 20), (90, 90, 130, 130), (40, 40, 42, 42)))
    out = warp_crop(s, 10, 10, 100, 100, 50, 50, min_size=2)
    # centre (10, 10) is on the border -> dropped; (110, 110) inside -> clipped to the window, scaled 0.5
    assert np.allclose(out.boxes, [[40, 40, 50, 50]])
    assert np.allclose(out.ignore, [[15, 15, 16, 16]])  # the 2-pixel face became 1 pixel: an ignore region
    out = warp_crop(s, -40, -40, 100, 100, 50, 50, fill=(1, 2, 3))
    assert np.allclose(out.boxes, [[20, 20, 30, 30], [40, 40, 41, 41]])  # (110, 110) is now outside
    assert out.image[0, 0].tolist() == [1, 2, 3] and out.image[49, 49].tolist() == [0, 200, 0]


def test_extd_pipeline_pads_with_the_model_mean(tmp_path) -> None:
    import cv2

    img = np.full((60, 80, 3), 50, np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    rec = ImageRecord(str(tmp_path / "a.png"), np.array([[30, 20, 50, 40]], np.float32))
    cfg = DataConfig(input_size=64, photometric=False)
    ds = FaceDataset([rec], extd_train_transforms(cfg, (123, 117, 104), True), (123, 117, 104), 1.0, True, 0)
    zeros = 0
    for epoch in range(8):
        item = ds[(epoch, 0)]
        assert item["image"].shape == (3, 64, 64)
        zeros += int((item["image"].abs().sum(0) < 1e-3).any())
    assert zeros > 0  # some crops leave the image: the pads normalise to exactly zero


def test_pyramidbox_anchor_sampling_interval_rule_with_ties_and_cap() -> None:
    das = PyramidBoxAnchorSampling(640)
    assert das.interval(10 * 10) == 0 and das.interval(16 * 16) == 0  # at or under 16²: 0
    assert das.interval(20 * 20) == 1 and das.interval(45 * 45) == 2 and das.interval(200 * 200) == 4
    assert das.interval(32 * 32) == 0 and das.interval(64 * 64) == 0  # ties fall in no open interval: 0
    assert das.interval(300 * 300) == 4 and das.interval(600 * 600) == 4  # above 256²: capped at 4
    rng = np.random.default_rng(0)
    # a 45 px face: interval 2 -> target anchor 16, 32 or 64; at i = k = 2 the top is min(128, 90) = 90
    draws = np.array([das.target(45, 45, rng) for _ in range(4000)])
    assert draws.min() >= 8 and draws.max() <= 90 + 1e-9 and (draws > 64).any()
    # a 20 px face (interval 1): i = 0 -> U(8, 32); i = 1 -> U(16, min(64, 40)): never above twice its size
    draws = np.array([das.target(20, 20, rng) for _ in range(4000)])
    assert draws.max() <= 40 + 1e-9 and draws.min() >= 8
    # a 3 px face: U between 8 and 2 * 3 = 6 (the reference's reversed bounds)
    draws = np.array([das.target(3, 3, rng) for _ in range(200)])
    assert draws.min() >= 6 and draws.max() <= 8


def test_pyramidbox_anchor_sampling_crop_keeps_the_face_at_its_target_size() -> None:
    das = PyramidBoxAnchorSampling(320)
    s = _sample(800, 600, ((300, 200, 380, 300),))  # an 80 x 100 face
    for seed in range(20):
        out = das(s, np.random.default_rng(seed))
        assert out.image.shape == (320, 320, 3)
        if len(out.boxes):  # the chosen face lies inside the window (unless the window is smaller than it)
            w = out.boxes[0, 2] - out.boxes[0, 0]
            assert 0 < w <= 320 + 1e-3


def test_ainnoface_pipeline_runs_on_a_record(tmp_path) -> None:
    import cv2

    img = np.full((300, 400, 3), 90, np.uint8)
    cv2.imwrite(str(tmp_path / "a.jpg"), img)
    rec = ImageRecord(str(tmp_path / "a.jpg"), boxes=np.array([[50, 60, 90, 110], [200, 100, 204, 104]], np.float32))
    ds = FaceDataset([rec], ainnoface_train_transforms(DataConfig(input_size=128)))
    for e in range(6):
        item = ds[(e, 0)]
        assert item["image"].shape == (3, 128, 128)
