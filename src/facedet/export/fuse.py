"""Graph pass for ONNX Runtime on CPU: sibling convolutions that read one tensor become one convolution.

A detection head ends in thin convolutions that share their input: SCRFD's score (2 channels) and box
(8 channels) convolutions per level. ONNX Runtime's CPU
kernels (NCHWc layout) round every convolution's output channels up to a block (16 channels with
AVX-512), so each thin sibling costs as much as a 16-channel one: on insightface's ``scrfd_500m.onnx``
at 640x480 ORT's profiler put the two stride-8 head convolutions at about 0.56 ms each of a 9.5 ms run
on one thread, and merging all three levels' pairs takes the network from 9.23 to 8.51 ms
(``python benchmarks/fuse_heads.py``). Concatenated along the output channels (weights and biases) and split
after, they run as one block: the same dot products in one kernel, so the outputs equal the unfused
graph's to float rounding. The model file is not changed; :class:`~facedet.export.runtime.OrtModel`
applies the pass to the graph it hands to ONNX Runtime (``fuse_heads=False`` turns it off).

Only plain siblings merge: every one a ``Conv`` on the same input with identical attributes (kernel,
strides, pads, dilations, group 1) and constant weights, and only where the merged output needs fewer
channel blocks than the members apart. The block is MLAS's: 16 channels on AVX-512 CPUs, 8 elsewhere
(:func:`nchwc_block`), so on an AVX2 machine SCRFD's 2 + 8 channels (one block each) stay apart. The
measured gain above is an AVX-512 one. ``OrtModel`` applies the pass only when the CPU provider comes
first; it is a CPU-kernel matter.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def nchwc_block() -> int:
    """Output channels per NCHWc block of ONNX Runtime's CPU kernels on this machine: 16 with AVX-512F,
    else 8 (MLAS's default; also the answer where the CPU's flags cannot be read)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return 16 if "avx512f" in line.split() else 8
    except OSError:
        pass
    return 8


def _blocks(channels: int, block: int) -> int:
    return -(-channels // block)


def _attrs(node: Any) -> tuple:
    import onnx

    return tuple(sorted((a.name, str(onnx.helper.get_attribute_value(a))) for a in node.attribute))


def opset_of(model: Any) -> int:
    """The default-domain opset an ``onnx.ModelProto`` declares (13 when it declares none)."""
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=13)


def fuse_sibling_convs(model: Any, block: int | None = None) -> int:
    """Merge, in place, each group of sibling ``Conv`` nodes of ``model`` (an ``onnx.ModelProto``) that
    saves channel blocks of ``block`` (default :func:`nchwc_block`) into one ``Conv`` + ``Split``; returns
    how many groups were merged. Node order stays topological (the merged node takes the place of the
    group's first member); a member's weights are dropped only when nothing else reads them."""
    from onnx import helper, numpy_helper

    block = nchwc_block() if block is None else block
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

    taken = _all_names(graph)

    def fresh(name: str) -> str:
        out, i = name, 1
        while out in taken:
            out, i = f"{name}_{i}", i + 1
        taken.add(out)
        return out

    merged, replaced, opset = 0, set[str](), opset_of(model)
    for members in groups.values():
        if len(members) < 2:
            continue
        weights = [numpy_helper.to_array(inits[n.input[1]]) for n in members]
        sizes = [w.shape[0] for w in weights]
        if len({(w.shape[1:], w.dtype) for w in weights}) != 1 or (
                _blocks(sum(sizes), block) >= sum(_blocks(c, block) for c in sizes)):
            continue
        has_bias = [len(n.input) > 2 and n.input[2] != "" for n in members]
        biases = [numpy_helper.to_array(inits[n.input[2]]) if b else np.zeros(c, weights[0].dtype)
                  for n, b, c in zip(members, has_bias, sizes, strict=True)]
        stem = f"facedet_fused_{members[0].name or members[0].output[0]}"
        w_name, out_name = fresh(f"{stem}_W"), fresh(f"{stem}_out")
        graph.initializer.extend([numpy_helper.from_array(np.concatenate(weights), w_name)])
        inputs = [members[0].input[0], w_name]
        if any(has_bias):
            b_name = fresh(f"{stem}_B")
            graph.initializer.extend([numpy_helper.from_array(np.concatenate(biases), b_name)])
            inputs.append(b_name)
        conv = helper.make_node("Conv", inputs, [out_name], name=fresh(f"{stem}_conv"))
        conv.attribute.extend(members[0].attribute)
        outputs = [n.output[0] for n in members]
        if opset >= 13:
            split_name = fresh(f"{stem}_split_sizes")
            graph.initializer.extend([numpy_helper.from_array(np.array(sizes, np.int64), split_name)])
            split = helper.make_node("Split", [out_name, split_name], outputs, name=fresh(f"{stem}_split"), axis=1)
        else:
            split = helper.make_node("Split", [out_name], outputs, name=fresh(f"{stem}_split"), axis=1, split=sizes)
        first = list(graph.node).index(members[0])
        for n in members:
            graph.node.remove(n)
            replaced.update(name for name in n.input[1:] if name)
        graph.node.insert(first, conv)
        graph.node.insert(first + 1, split)
        merged += 1
    dropped = replaced - _read_names(graph)
    if dropped:
        keep = [t for t in graph.initializer if t.name not in dropped]
        del graph.initializer[:]
        graph.initializer.extend(keep)
        listed = [i for i in graph.input if i.name not in dropped]  # IR < 4 files list initializers as inputs
        del graph.input[:]
        graph.input.extend(listed)
    return merged


def _subgraphs(graph: Any) -> list[Any]:
    """Every graph nested in ``graph``'s nodes (If / Loop / Scan bodies), at any depth."""
    from onnx import AttributeProto

    found = []
    for node in graph.node:
        for a in node.attribute:
            inner = [a.g] if a.type == AttributeProto.GRAPH else (
                list(a.graphs) if a.type == AttributeProto.GRAPHS else [])
            for g in inner:
                found += [g, *_subgraphs(g)]
    return found


def _read_names(graph: Any) -> set[str]:
    """Names some node reads (subgraphs included) or the graph returns."""
    names = {o.name for o in graph.output}
    for g in [graph, *_subgraphs(graph)]:
        names.update(name for node in g.node for name in node.input)
    return names


def _all_names(graph: Any) -> set[str]:
    """Every tensor and node name in ``graph`` and its subgraphs (fresh names must avoid them all)."""
    names: set[str] = set()
    for g in [graph, *_subgraphs(graph)]:
        names.update(t.name for t in g.initializer)
        names.update(v.name for v in [*g.input, *g.output, *g.value_info])
        for node in g.node:
            names.update([node.name, *node.input, *node.output])
    return names
