"""ONNX export of zoo presets: official output layout, dynamic batch/size, torch-vs-ORT parity."""

import json

import cv2
import numpy as np
import onnx
import pytest
import torch

from facedet.cli import main
from facedet.export.onnx import check_parity, export_onnx
from facedet.zoo import build_model


@pytest.mark.parametrize("name", ["scrfd_500m", "scrfd_2.5g_kps"])
def test_export_layout_and_parity(name, tmp_path):
    model = build_model(name)
    path = export_onnx(model, tmp_path / f"{name}.onnx", input_size=(320, 320))
    graph = onnx.load(str(path)).graph
    names = [o.name for o in graph.output]
    expect = ["score_8", "score_16", "score_32", "bbox_8", "bbox_16", "bbox_32"]
    if model.has_kps:
        expect += ["kps_8", "kps_16", "kps_32"]
    assert names == expect
    dims = graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "", "height", "width"]
    # a different batch and size than the trace: dynamic axes must hold
    assert check_parity(model, path, input_size=(224, 160), batch=2) < 1e-4


def test_export_cli(tmp_path, capsys, recwarn):
    out = tmp_path / "m.onnx"
    assert main(["export", "scrfd_1g", "--out", str(out), "--size", "320", "320"]) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["parity"] is True and out.is_file()
    assert any("randomly initialised" in str(w.message) for w in recwarn)
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no temporary file left


def test_export_and_convert_refuse_to_overwrite_their_input(tmp_path, capsys):
    src = tmp_path / "m.onnx"
    src.write_bytes(b"an input that must survive")
    assert main(["convert", str(src), "--out", str(src)]) == 2
    assert "would destroy the input" in capsys.readouterr().err
    assert main(["export", "scrfd_1g", "--weights", str(src), "--out", str(src)]) == 2
    assert "would destroy the input" in capsys.readouterr().err
    assert src.read_bytes() == b"an input that must survive"


@pytest.mark.parametrize("name, kw", [("extd_fpn_32", {}),
                                      ("gs_fpn_finest_r18", {"widths": (8, 16, 32, 64), "neck_channels": 16,
                                                             "head_channels": 16})])
def test_export_other_families_raw_outputs(name, kw, tmp_path):
    model = build_model(name, **kw)
    path = export_onnx(model, tmp_path / f"{name}.onnx", input_size=(128, 128))
    names = [o.name for o in onnx.load(str(path)).graph.output]
    n = len(model.strides)
    assert names == [f"cls_{i}" for i in range(n)] + [f"reg_{i}" for i in range(n)]
    assert check_parity(model, path, input_size=(160, 96), batch=2) < 1e-4


def test_int8_quantisation_keeps_the_decoding_metadata(tmp_path):
    import onnx

    from facedet import FaceDetector
    from facedet.export.quantize import quantize_int8

    torch.manual_seed(0)
    path = export_onnx(build_model("scrfd_500m").eval(), tmp_path / "m.onnx", input_size=(128, 128))
    rng = np.random.default_rng(0)
    calib = []
    for i in range(3):
        calib.append(tmp_path / f"c{i}.png")
        cv2.imwrite(str(calib[-1]), rng.integers(0, 255, (96, 128, 3), dtype=np.uint8))
    out = quantize_int8(path, tmp_path / "m_int8.onnx", calib, max_side=128)
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["facedet.quantized"] == "int8-qdq-per-channel-float-stride-8" and meta["facedet.family"] == "scrfd"
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    # the 8 convolutions at strides 2 and 4 (MobileNet stem and the next seven) keep float weights, the rest are int8
    graph = onnx.load(str(out)).graph
    made_by = {o: n for n in graph.node for o in n.output}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    quantised = [n.input[1] in made_by and made_by[n.input[1]].op_type == "DequantizeLinear" for n in convs]
    assert quantised[:8] == [False] * 8 and all(quantised[8:])
    every = quantize_int8(path, tmp_path / "all_int8.onnx", calib, max_side=128, float_stride=1)
    graph = onnx.load(str(every)).graph
    made_by = {o: n for n in graph.node for o in n.output}
    assert all(made_by[n.input[1]].op_type == "DequantizeLinear" for n in graph.node if n.op_type == "Conv")
    det = FaceDetector(str(out), input_size=(128, 128), score_threshold=0.0)
    assert det.backend == "onnx" and det.info.family == "scrfd" and len(det.detect(cv2.imread(str(calib[0])))) > 0
    with pytest.raises(ValueError, match="is the input file"):
        quantize_int8(out, out, calib)
