"""SCRFD decoding on hand-made outputs: box and landmark arithmetic, thresholds, NMS, rescale."""

import numpy as np
import torch

from facedet.models.outputs import HeadOutputs
from facedet.postprocess import DistancePostProcessor, Frame, Settings
from facedet.preprocess import Letterbox, normalize
from facedet.priors import PointGrid

GRID = PointGrid((8, 16, 32), per_location=2)


def _named(scores, dists, kps=None):
    """One image's per-level arrays as ONNX Runtime returns them (batch axis first), by output name."""
    out = {f"score_{s}": x[None, :, None] for s, x in zip(GRID.strides, scores, strict=True)}
    out.update({f"bbox_{s}": x[None] for s, x in zip(GRID.strides, dists, strict=True)})
    if kps is not None:
        out.update({f"kps_{s}": x[None] for s, x in zip(GRID.strides, kps, strict=True)})
    return out


def _canvas(fs):
    return (fs[0][0] * 8, fs[0][1] * 8)


def _outputs(feat_sizes, strides=(8, 16, 32), a=2):
    n = [h * w * a for h, w in feat_sizes]
    scores = [np.zeros(k, np.float32) for k in n]
    dists = [np.zeros((k, 4), np.float32) for k in n]
    kps = [np.zeros((k, 10), np.float32) for k in n]
    return scores, dists, kps


def test_decode_single_anchor_by_hand():
    fs = [(4, 4), (2, 2), (1, 1)]
    scores, dists, kps = _outputs(fs)
    # level 0 (stride 8), location y=1, x=2 -> centre (16, 8); anchor 1 -> row (1*4+2)*2+1 = 13
    scores[0][13] = 0.9
    dists[0][13] = [1, 0.5, 2, 1.5]  # stride units: l=8, t=4, r=16, b=12
    kps[0][13] = np.arange(10) / 8.0  # offsets 0..9 px
    pp = DistancePostProcessor(GRID, Settings(score_threshold=0.5, clip=False), has_kps=True)
    frame = Frame(2.0, (100, 100), _canvas(fs))
    (det,) = pp.numpy(_named(scores, dists, kps), [frame])
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes[0], np.array([8, 4, 32, 20]) / 2.0)
    expect_lm = (np.array([16, 8]) + np.arange(10).reshape(5, 2)) / 2.0
    np.testing.assert_allclose(det.landmarks[0], expect_lm)
    # the torch path gives the same
    out = HeadOutputs([torch.from_numpy(s)[None, :, None] for s in scores], [torch.from_numpy(d)[None] for d in dists],
                      [torch.from_numpy(k)[None] for k in kps], fs)
    # the torch path takes logits: scores through the inverse sigmoid
    out.cls = [torch.logit(c.clamp(1e-7, 1 - 1e-7)) for c in out.cls]
    (t,) = pp.torch(out, [frame])
    np.testing.assert_allclose(t.boxes, det.boxes)
    np.testing.assert_allclose(t.landmarks, det.landmarks)


def test_threshold_is_strict_and_nms_suppresses():
    fs = [(4, 4), (2, 2), (1, 1)]
    scores, dists, _ = _outputs(fs)
    scores[0][0] = 0.5  # not > 0.5
    scores[0][2], dists[0][2] = 0.8, [1, 1, 1, 1]   # centre (8,0): box (0,-8,16,8)
    scores[0][3], dists[0][3] = 0.7, [1, 1, 1, 1]   # same centre, duplicate -> suppressed
    scores[1][0], dists[1][0] = 0.6, [1, 1, 1, 1]   # stride 16 centre (0,0): box (-16,-16,16,16)
    pp = DistancePostProcessor(GRID, Settings(score_threshold=0.5, nms_threshold=0.4))
    (det,) = pp.numpy(_named(scores, dists), [Frame(1.0, (100, 100), _canvas(fs))])
    np.testing.assert_allclose(det.scores, [0.8, 0.6])
    np.testing.assert_allclose(det.boxes, [[0, 0, 16, 8], [0, 0, 16, 16]])  # clipped to the image


def test_letterbox_fixed_and_dynamic():
    img = np.full((100, 200, 3), 255, np.uint8)
    canvas, scale = Letterbox((640, 640))(img)
    assert canvas.shape == (640, 640, 3) and scale == 320 / 100
    assert canvas[319, 639].tolist() == [255] * 3 and canvas[320, 0].tolist() == [0] * 3
    canvas, scale = Letterbox(None)(img)
    assert canvas.shape == (128, 224, 3) and scale == 1.0
    canvas, scale = Letterbox(None, max_side=100)(img)
    assert canvas.shape == (64, 128, 3) and scale == 0.5
    blob = normalize(canvas, 127.5, 128.0, rgb=True)
    assert blob.shape == (1, 3, 64, 128) and blob.dtype == np.float32
    np.testing.assert_allclose(blob[0, :, 0, 0], (255 - 127.5) / 128)
