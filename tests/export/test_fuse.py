"""Sibling-convolution fusion: which convolutions merge, and the merged graph computes the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from facedet.export.fuse import fuse_sibling_convs  # noqa: E402


def _conv(name: str, x: str, out: int, cin: int, k: int, rng: np.random.Generator, bias: bool = True,
          group: int = 1) -> tuple[object, list[object]]:
    w = numpy_helper.from_array(rng.standard_normal((out, cin // group, k, k)).astype(np.float32), f"{name}_w")
    inits = [w]
    inputs = [x, w.name]
    if bias:
        b = numpy_helper.from_array(rng.standard_normal(out).astype(np.float32), f"{name}_b")
        inits.append(b)
        inputs.append(b.name)
    node = helper.make_node("Conv", inputs, [name], name=name, kernel_shape=[k, k], pads=[k // 2] * 4, group=group)
    return node, inits


def _graph(opset: int, sizes: tuple[int, ...] = (2, 8)) -> object:
    """x -> relu -> {score conv (bias), box conv (no bias), a 1x1 conv, a depthwise conv}, each an output."""
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="relu")]
    inits: list[object] = []
    outs = []
    for i, c in enumerate(sizes):
        n, t = _conv(f"head{i}", "h", c, 4, 3, rng, bias=i == 0)
        nodes.append(n)
        inits += t
        outs.append(n.output[0])
    for name, k, group, c in (("point", 1, 1, 3), ("depth", 3, 4, 4)):
        n, t = _conv(name, "h", c, 4, k, rng, group=group)
        nodes.append(n)
        inits += t
        outs.append(name)
    graph = helper.make_graph(
        nodes, "siblings", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 7])],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _run(model: object, x: np.ndarray) -> dict[str, np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"x": x}), strict=True))


@pytest.mark.parametrize("opset", [11, 17])  # Split's sizes: an attribute before opset 13, an input from it
def test_siblings_merge_and_outputs_match(opset: int) -> None:
    model = _graph(opset)
    x = np.random.default_rng(1).standard_normal((1, 4, 6, 7)).astype(np.float32)
    before = _run(model, x)
    assert fuse_sibling_convs(model) == 1  # the two 3x3 head convs; the 1x1 and the depthwise stay
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == 3 and ops.count("Split") == 1
    assert not {"head0_w", "head1_w", "head0_b"} & {t.name for t in model.graph.initializer}  # old weights gone
    after = _run(model, x)
    assert list(after) == list(before)  # same output names, same order
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-5, atol=1e-5)


def test_wide_groups_and_lone_convs_stay() -> None:
    model = _graph(17, sizes=(40, 40))  # 80 merged channels: beyond MAX_MERGED, no blocks saved
    assert fuse_sibling_convs(model) == 0
    assert [n.op_type for n in model.graph.node].count("Conv") == 4
    model = _graph(17, sizes=(8,))
    assert fuse_sibling_convs(model) == 0


def test_runtime_applies_it_to_an_scrfd_export(tmp_path) -> None:
    """Through OrtModel (fusion on by default) an SCRFD export gives the unfused session's outputs."""
    import torch

    from facedet.export.onnx import export_onnx
    from facedet.export.runtime import OrtModel
    from facedet.zoo import build_model

    torch.manual_seed(0)
    model = build_model("scrfd_500m").eval()
    path = export_onnx(model, tmp_path / "s.onnx", input_size=(128, 96))
    fused, plain = OrtModel(path, num_threads=1), OrtModel(path, num_threads=1, fuse_heads=False)
    assert fused.fused == 3 and plain.fused == 0  # score + box conv at each of the three strides
    x = np.random.default_rng(0).standard_normal((1, 3, 96, 128)).astype(np.float32)
    a, b = fused.run(x), plain.run(x)
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-5)
