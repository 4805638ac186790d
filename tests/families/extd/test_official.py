"""Official checkpoints: strict import, and output parity with an independent functional forward."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facedet.families.extd import build_extd
from facedet.families.extd.convert import (
    convert_extd_state,
    extd_from_official,
    load_extd_official,
    official_key_to_ours,
    read_official_state,
)
from tests.conftest import shared_path

from .reference_forward import reference_forward


def test_key_mapping_table():
    assert official_key_to_ours("base.0.2.weight") == "stem.act.weight"
    assert official_key_to_ours("base.1.conv.3.weight") == "entry.pw.weight"
    assert official_key_to_ours("base.7.conv.6.weight") == "group.5.project.weight"
    assert official_key_to_ours("upfeat.4.2.running_var") == "upfeat.4.bn.running_var"
    with pytest.raises(ValueError, match="no mapping"):
        official_key_to_ours("extras.0.weight")


@pytest.mark.parametrize("width", [32, 64])
def test_official_forward_parity(width):
    path = shared_path("weights", "extd", f"EXTD_{width}.pth")
    sd = read_official_state(path)
    model = extd_from_official(path)
    assert sum(p.numel() for p in model.parameters()) == {32: 62_939, 64: 162_352}[width]
    img = torch.from_numpy(np.random.default_rng(0).uniform(-120, 130, (1, 3, 100, 140)).astype(np.float32))
    with torch.no_grad():
        ref_loc, ref_conf = reference_forward(sd, img)
        out = model(img)
    assert torch.allclose(torch.cat(out.reg, 1), ref_loc, atol=1e-4, rtol=1e-4)
    assert torch.allclose(torch.cat(out.cls, 1), ref_conf, atol=1e-4, rtol=1e-4)
    assert torch.cat(out.cls, 1).abs().max() > 1.0  # real, non-trivial outputs


def test_strict_import_errors(tmp_path):
    path = shared_path("weights", "extd", "EXTD_48.pth")
    with pytest.raises(ValueError, match="shape"):
        load_extd_official(build_extd("extd_fpn_64"), path)
    sd = read_official_state(path)
    with pytest.raises(ValueError, match="not filled"):
        convert_extd_state({k: v for k, v in sd.items() if k != "loc.3.bias"}, build_extd("extd_fpn_48"))
    with pytest.raises(ValueError, match="not in the model"):  # ReLU model has no PReLU slopes
        convert_extd_state(sd, build_extd("extd_fpn_48_relu"))
    # train-checkpoint layout {'epoch', 'weight'} with DataParallel prefixes loads too
    wrapped = tmp_path / "train.pth"
    torch.save({"epoch": 3, "weight": {"module." + k: v for k, v in sd.items()}}, wrapped)
    m = load_extd_official(build_extd("extd_fpn_48"), wrapped)
    assert torch.equal(m.loc[2].weight, sd["loc.2.weight"])
    with pytest.raises(FileNotFoundError):
        read_official_state(tmp_path / "absent.pth")


def test_official_model_finds_a_real_face():
    import cv2

    from facedet.ops.boxes import box_iou_np
    from tests.decode_helpers import decode

    model = extd_from_official(shared_path("weights", "extd", "EXTD_32.pth"))
    gt_file = shared_path("data", "widerface", "wider_face_split", "wider_face_val_bbx_gt.txt")
    name = "0--Parade/0_Parade_Parade_0_12.jpg"
    img = cv2.imread(str(shared_path("data", "widerface", "WIDER_val", "images", name)))
    lines = gt_file.read_text().splitlines()
    i = lines.index(name)
    gt = np.array([[float(v) for v in lines[i + 2 + k].split()[:4]] for k in range(int(lines[i + 1]))])
    gt[:, 2:] += gt[:, :2]
    s = 0.5
    small = cv2.resize(img, None, fx=s, fy=s)
    mean = np.asarray(model.input_mean, dtype=np.float32)
    x = torch.from_numpy((small[..., ::-1].astype(np.float32) - mean).transpose(2, 0, 1).copy())
    with torch.no_grad():
        boxes, scores = decode(model(x[None]), model, top_k=750)[0]
    confident = boxes[scores > 0.8] / s
    assert len(confident) >= 3
    assert (box_iou_np(confident, gt).max(axis=1) > 0.4).mean() > 0.8


def test_training_targets_agree_with_the_official_network():
    """Matching, SSD coding and the EXTD crops put the targets where the official network predicts:
    on EXTD-augmented crops of real WIDER train images, the official weights' MultiBox loss (cls and
    box) is far below a random network's. Measured: official 3.3 (cls 1.7, box 1.6), random 8.0."""
    from facedet import zoo
    from facedet.config import apply_overrides
    from facedet.data import load_dataset
    from facedet.data.loader import FaceDataset, collate
    from facedet.families import default_config, family_of

    root = shared_path("data", "widerface")
    official = extd_from_official(shared_path("weights", "extd", "EXTD_32.pth")).eval()
    torch.manual_seed(0)
    random_net = zoo.build_model("extd_fpn_32").eval()
    cfg = apply_overrides(default_config("extd_fpn_32"), ["data.input_size=320", "data.photometric=false"])
    family = family_of(official)
    criterion, transform = family.criterion(official, cfg), family.augment(official, cfg.data)
    records = [r for r in load_dataset(root, "train") if len(r.boxes)][:8]
    ds = FaceDataset(records, transform, official.input_mean, official.input_std, official.input_rgb, seed=0)
    images, targets = collate([ds[(0, i)] for i in range(len(records))])
    with torch.no_grad():
        ours = criterion(official(images), targets)
        rand = criterion(random_net(images), targets)
    assert ours["loss"] < 0.6 * rand["loss"]
    assert ours["loss_box"] < 0.5 * rand["loss_box"] and ours["loss_cls"] < rand["loss_cls"]
