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
    assert fuse_sibling_convs(model, block=16) == 1  # the two 3x3 head convs; the 1x1 and the depthwise stay
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == 3 and ops.count("Split") == 1
    assert not {"head0_w", "head1_w", "head0_b"} & {t.name for t in model.graph.initializer}  # old weights gone
    after = _run(model, x)
    assert list(after) == list(before)  # same output names, same order
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sizes, block, merges", [
    ((2, 8), 16, 1),    # 2 blocks -> 1 (AVX-512)
    ((2, 8), 8, 0),     # 1 + 1 blocks -> 2: nothing saved (AVX2)
    ((40, 40), 16, 1),  # 3 + 3 -> 5
    ((48, 48), 16, 0),  # 3 + 3 -> 6
    ((8,), 16, 0),      # a lone conv
])
def test_merges_only_where_blocks_are_saved(sizes: tuple[int, ...], block: int, merges: int) -> None:
    model = _graph(17, sizes)
    assert fuse_sibling_convs(model, block=block) == merges
    assert [n.op_type for n in model.graph.node].count("Conv") == len(sizes) + 2 - (len(sizes) - 1) * merges


def test_weights_read_elsewhere_survive_and_names_stay_unique() -> None:
    """A member's weight that another node reads stays; a tensor already named like the merged one
    does not collide; an empty-string bias counts as none; IR-3 graphs listing initializers as inputs."""
    model = _graph(11)
    g = model.graph
    g.node[2].input.append("")  # head0 keeps its bias; head1 gets an explicit empty one
    g.node.append(helper.make_node("Identity", ["head1_w"], ["w_copy"], name="facedet_fused_head0_W"))
    g.output.append(helper.make_tensor_value_info("w_copy", TensorProto.FLOAT, None))
    g.input.extend([helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in g.initializer])
    model.ir_version = 3
    x = np.random.default_rng(2).standard_normal((1, 4, 6, 7)).astype(np.float32)
    before = _run(model, x)
    assert fuse_sibling_convs(model, block=16) == 1
    names = [n.name for n in g.node]
    assert len(names) == len(set(names))
    left = {t.name for t in g.initializer}
    assert "head1_w" in left and "head0_w" not in left
    assert "head1_w" in {i.name for i in g.input} and "head0_w" not in {i.name for i in g.input}
    after = _run(model, x)
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-5, atol=1e-5)


def test_weights_read_in_a_subgraph_survive() -> None:
    model = _graph(17)
    g = model.graph
    branch = helper.make_graph([helper.make_node("Identity", ["head0_b"], ["b_out"], name="inner")], "branch", [],
                               [helper.make_tensor_value_info("b_out", TensorProto.FLOAT, None)])
    g.initializer.append(numpy_helper.from_array(np.array(True), "cond"))
    g.node.append(helper.make_node("If", ["cond"], ["bias_copy"], name="if", then_branch=branch, else_branch=branch))
    g.output.append(helper.make_tensor_value_info("bias_copy", TensorProto.FLOAT, None))
    x = np.random.default_rng(3).standard_normal((1, 4, 6, 7)).astype(np.float32)
    before = _run(model, x)
    assert fuse_sibling_convs(model, block=16) == 1
    assert "head0_b" in {t.name for t in g.initializer} and "head0_w" not in {t.name for t in g.initializer}
    np.testing.assert_array_equal(_run(model, x)["bias_copy"], before["bias_copy"])


def test_unreadable_files_load_as_before(tmp_path) -> None:
    """The pass never makes a file fail that loaded without it: junk still gets ONNX Runtime's own error."""
    from facedet.export.runtime import OrtModel

    junk = tmp_path / "junk.onnx"
    junk.write_text("junk")
    with pytest.raises(Exception, match="INVALID_PROTOBUF"):
        OrtModel(junk)


@pytest.mark.parametrize("block, merges", [(16, 3), (8, 0)])
def test_runtime_applies_it_to_an_scrfd_export(tmp_path, monkeypatch, block: int, merges: int) -> None:
    """Through OrtModel (fusion on by default) an SCRFD export gives the unfused session's outputs.

    The block size is set, not read from this CPU: on AVX-512 (16) the 2-channel score and 8-channel box
    convolutions merge at each of the three strides; on AVX2 (8) merging saves no block, so none merge.
    """
    import torch

    from facedet.export import fuse
    from facedet.export.onnx import export_onnx
    from facedet.export.runtime import OrtModel
    from facedet.zoo import build_model

    monkeypatch.setattr(fuse, "nchwc_block", lambda: block)
    torch.manual_seed(0)
    model = build_model("scrfd_500m").eval()
    path = export_onnx(model, tmp_path / "s.onnx", input_size=(128, 96))
    fused, plain = OrtModel(path, num_threads=1), OrtModel(path, num_threads=1, fuse_heads=False)
    assert fused.fused == merges and plain.fused == 0
    x = np.random.default_rng(0).standard_normal((1, 3, 96, 128)).astype(np.float32)
    a, b = fused.run(x), plain.run(x)
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-4, atol=1e-5)
