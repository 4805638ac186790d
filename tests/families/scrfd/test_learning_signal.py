"""Our SCRFD criterion tells a trained network from a random one: on the same real batches, the official
SCRFD-0.5GF weights (imported from insightface's ONNX) score a far lower loss than a random init, and a
distillation from the official file onto itself costs nothing. A wrong assigner, coder or loss breaks it."""

from __future__ import annotations

import dataclasses

import torch

from facedet import zoo
from facedet.config import DistillConfig
from facedet.criteria.distill import Distiller
from facedet.data import load_dataset
from facedet.data.loader import FaceDataset, collate, trainable
from facedet.families import default_config, family_of
from facedet.families.scrfd.onnx_import import import_scrfd_onnx
from facedet.models.detector import as_detector
from tests.conftest import shared_path

CROPS = (0.15, 0.225, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # the CPU recipe's (benchmarks/train_default.sh)


def test_official_weights_score_far_below_random_on_real_batches() -> None:
    onnx = shared_path("weights", "scrfd", "scrfd_500m.onnx")
    wider = shared_path("data", "widerface")
    cfg = default_config("scrfd_500m")
    cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, input_size=320, crop_choice=CROPS))
    records = trainable(list(load_dataset(wider, "train")))[:16]
    torch.manual_seed(0)
    random = zoo.build_model("scrfd_500m").train()
    det = as_detector(random)
    data = FaceDataset(records, family_of(random).augment(det, cfg.data), det.input_mean, det.input_std,
                       det.input_rgb, seed=0)
    batches = [collate([data[(0, i)] for i in range(b, b + 8)]) for b in (0, 8)]
    official = zoo.build_model("scrfd_500m")
    import_scrfd_onnx(official, onnx, batches[0][0])
    criterion = family_of(random).criterion(random, cfg)
    with torch.no_grad():
        rand = [float(criterion(random(x), t)["loss"]) for x, t in batches]
        ours = [float(criterion(official.train()(x), t)["loss"]) for x, t in batches]
        kd = Distiller(official, official, DistillConfig(teacher="self"))
        x, t = batches[0]
        terms = kd.dense_terms(official(x), kd.teacher_outputs(x))
    for r, o in zip(rand, ours, strict=True):
        assert o < 0.5 * r, (rand, ours)  # measured: about 0.7 against 2.1
    assert float(terms["loss_kd_cls"]) == 0.0 and float(terms["loss_kd_box"]) < 1e-5
