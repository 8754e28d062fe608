"""The live index of a long-running process: rebuilds swapped in, the old one kept meanwhile."""

import threading

import pytest

from conftest import FakeEmbedder
from fakes import CharAligner
from qa import build_index, live
from qa.errors import IndexDamagedError, IndexMissingError
from qa.live import LiveIndex
from qa.storage.index_dir import CURRENT, current_generation


@pytest.fixture
def index_dir(corpus_dir, tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    return index_dir


def rebuild(corpus_dir, index_dir, text="敦煌莫高窟始建于前秦时期。"):
    (corpus_dir / "new.txt").write_text(text, encoding="utf-8")
    build_index(corpus_dir, index_dir, embedder=FakeEmbedder())


def test_the_same_generation_is_the_same_object(index_dir, fake_embedder):
    live_index = LiveIndex(index_dir, embedder=fake_embedder)
    assert live_index.current() is live_index.current()
    assert live_index.status().generation == current_generation(index_dir).name


def test_a_rebuild_is_swapped_in_and_the_model_is_not_loaded_again(index_dir, corpus_dir, use_fake_model, monkeypatch):
    from qa import search

    aligners = []
    monkeypatch.setattr(search, "load_aligner", lambda model: aligners.append(CharAligner()) or aligners[-1])
    live_index = LiveIndex(index_dir)
    old = live_index.current()
    rebuild(corpus_dir, index_dir)
    new = live_index.current()
    assert new is not old and new.generation_dir == current_generation(index_dir)
    assert new.embedder is old.embedder
    assert new.aligner is old.aligner and len(aligners) == 1  # loaded once, when the first generation warmed up
    assert old.search("龙井茶", top_k=1)  # a caller still holding the old generation can finish


def test_others_keep_the_old_generation_while_one_loads_the_new(index_dir, corpus_dir, fake_embedder, monkeypatch):
    live_index = LiveIndex(index_dir, embedder=fake_embedder)
    old = live_index.current()
    loading, release = threading.Event(), threading.Event()

    def slow_warm_up(index):
        loading.set()
        release.wait(10)

    monkeypatch.setattr(live, "warm_up", slow_warm_up)
    rebuild(corpus_dir, index_dir)
    loader = threading.Thread(target=live_index.current)
    loader.start()
    assert loading.wait(10)
    assert live_index.current() is old  # does not wait for the load
    release.set()
    loader.join()
    assert live_index.current().generation_dir == current_generation(index_dir)


def test_a_generation_that_will_not_load_is_reported_and_not_retried(index_dir, corpus_dir, fake_embedder, monkeypatch):
    live_index = LiveIndex(index_dir, embedder=fake_embedder)
    old = live_index.current()
    rebuild(corpus_dir, index_dir)
    (current_generation(index_dir) / "forms.json").write_text("{", encoding="utf-8")
    assert live_index.current() is old
    assert "damaged" in live_index.status().reload_error
    attempts = []
    monkeypatch.setattr(live, "load_index", lambda *a, **k: attempts.append(1))
    assert live_index.current() is old and attempts == []


def test_a_garbled_pointer_keeps_the_loaded_generation_serving_until_it_is_put_back(index_dir, fake_embedder):
    live_index = LiveIndex(index_dir, embedder=fake_embedder)
    old = live_index.current()
    pointer = (index_dir / CURRENT).read_text(encoding="utf-8")
    (index_dir / CURRENT).write_text("garbage", encoding="utf-8")
    assert live_index.current() is old
    assert "bad CURRENT pointer" in live_index.status().reload_error
    (index_dir / CURRENT).write_text(pointer, encoding="utf-8")
    assert live_index.current() is old
    assert live_index.status().reload_error is None  # the report does not outlive the damage


def test_with_nothing_to_fall_back_on_the_error_is_raised(index_dir, fake_embedder):
    (current_generation(index_dir) / "forms.json").write_text("{", encoding="utf-8")
    live_index = LiveIndex(index_dir, embedder=fake_embedder)
    for _ in range(2):
        with pytest.raises(IndexDamagedError):
            live_index.current()


def test_a_removed_index_is_missing(index_dir, fake_embedder):
    live_index = LiveIndex(index_dir, embedder=fake_embedder)
    live_index.current()
    (index_dir / CURRENT).unlink()
    with pytest.raises(IndexMissingError):
        live_index.current()


def test_a_milvus_collection_is_live_too(corpus_dir, tmp_path, fake_embedder):
    """The same swap on Milvus (Lite): the generation is the collection's row in qa_meta."""
    where = {"backend": f"milvus:{tmp_path / 'm.db'}", "collection": "docs"}
    live_index = LiveIndex(None, embedder=fake_embedder, **where)
    with pytest.raises(IndexMissingError, match="no collection 'docs'"):
        live_index.current()
    build_index(corpus_dir, None, embedder=fake_embedder, **where)
    old = live_index.current()
    assert old is live_index.current() and old.generation == "gen-1"
    (corpus_dir / "new.txt").write_text("敦煌莫高窟始建于前秦时期。", encoding="utf-8")
    build_index(corpus_dir, None, embedder=fake_embedder, **where)
    new = live_index.current()
    assert new.generation == "gen-2" and new.search("莫高窟始建于什么时期", top_k=1)[0].passage.doc_path == "new.txt"
