"""Graph pass for ONNX Runtime on CPU: sibling convolutions that read one tensor become one convolution.

A detection head ends in thin convolutions that share their input: SCRFD's score (2 channels) and box
(8 channels) convolutions per level, EXTD's and S3FD's class and regression layers. ONNX Runtime's CPU
kernels (NCHWc layout) round every convolution's output channels up to a block of 16, so each thin
sibling costs as much as a 16-channel one: on insightface's ``scrfd_500m.onnx`` at 640x480 the two
stride-8 head convolutions take about 0.56 ms each of a 9.5 ms run on one thread
(``benchmarks/fuse_heads.py``). Concatenated along the output channels (weights and biases) and split
after, they run as one block: the same dot products in one kernel, so the outputs equal the unfused
graph's to float rounding. The model file is not changed; :class:`~facedet.export.runtime.OrtModel`
applies the pass to the graph it hands to ONNX Runtime (``fuse_heads=False`` turns it off).

Only plain siblings merge: every one a ``Conv`` on the same input with identical attributes
(kernel, strides, pads, dilations, group 1), constant weights (and biases, when any has one), and
the merged output at most 64 channels, so it saves kernel blocks and never adds work.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

MAX_MERGED = 64  # output channels; beyond this a merge no longer saves blocks of 16


def _attrs(node: Any) -> tuple:
    import onnx

    return tuple(sorted((a.name, str(onnx.helper.get_attribute_value(a))) for a in node.attribute))


def _opset(model: Any) -> int:
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)


def fuse_sibling_convs(model: Any, max_merged: int = MAX_MERGED) -> int:
    """Merge, in place, each group of sibling ``Conv`` nodes of ``model`` (an ``onnx.ModelProto``) into one
    ``Conv`` + ``Split``; returns how many groups were merged. Node order stays topological: the merged
    node takes the place of the group's first member."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for node in graph.node:
        if node.op_type != "Conv" or node.domain not in ("", "ai.onnx") or len(node.input) < 2:
            continue
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        if group != 1 or any(name and name not in inits for name in node.input[1:]):
            continue
        groups[(node.input[0], _attrs(node))].append(node)

    merged = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        weights = [numpy_helper.to_array(inits[n.input[1]]) for n in members]
        sizes = [w.shape[0] for w in weights]
        if sum(sizes) > max_merged or len({w.shape[1:] for w in weights}) != 1:
            continue
        has_bias = [len(n.input) > 2 and n.input[2] != "" for n in members]
        biases = [numpy_helper.to_array(inits[n.input[2]]) if b else np.zeros(s, weights[0].dtype)
                  for n, b, s in zip(members, has_bias, sizes, strict=True)]
        stem = f"facedet_fused_{merged}_{members[0].name or members[0].output[0]}"
        w_name, b_name, out_name = f"{stem}_W", f"{stem}_B", f"{stem}_out"
        graph.initializer.extend([numpy_helper.from_array(np.concatenate(weights), w_name)])
        inputs = [members[0].input[0], w_name]
        if any(has_bias):
            graph.initializer.extend([numpy_helper.from_array(np.concatenate(biases), b_name)])
            inputs.append(b_name)
        conv = helper.make_node("Conv", inputs, [out_name], name=f"{stem}_conv")
        conv.attribute.extend(members[0].attribute)
        outputs = [n.output[0] for n in members]
        if _opset(model) >= 13:
            split_name = f"{stem}_split_sizes"
            graph.initializer.extend([numpy_helper.from_array(np.array(sizes, np.int64), split_name)])
            split = helper.make_node("Split", [out_name, split_name], outputs, name=f"{stem}_split", axis=1)
        else:
            split = helper.make_node("Split", [out_name], outputs, name=f"{stem}_split", axis=1, split=sizes)
        first = list(graph.node).index(members[0])
        for n in members:
            graph.node.remove(n)
        graph.node.insert(first, conv)
        graph.node.insert(first + 1, split)
        merged += 1
    if merged:
        used = {name for node in graph.node for name in node.input}
        dropped = {t.name for t in graph.initializer} - used
        keep = [t for t in graph.initializer if t.name not in dropped]
        del graph.initializer[:]
        graph.initializer.extend(keep)
        listed = [i for i in graph.input if i.name not in dropped]  # IR < 4 files list initializers as inputs
        del graph.input[:]
        graph.input.extend(listed)
    return merged
