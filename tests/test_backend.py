"""The backend contract: every test runs on `local` and on `milvus` (Milvus Lite, a .db file),
and one runs Milvus Lite as a server on loopback, reached through the network client."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import build_index, load_index
from qa.retrieve import crosslingual
from qa.storage.backend import list_collections, parse_backend
from qa.errors import BadInputError, CorpusConflictError, IndexMissingError, ModelMismatchError, NotFoundError
from qa.retrieve.filters import Filter
from qa.ingest.reader import read_corpus


@pytest.fixture(params=["local", "milvus"])
def where(request, tmp_path):
    """Where a test's collections live: keyword arguments for build_index and load_index."""
    if request.param == "local":
        return {"index_dir": tmp_path / "index", "backend": "local"}
    return {"index_dir": None, "backend": f"milvus:{tmp_path / 'milvus.db'}"}


def build(corpus_dir, where, embedder, **options):
    return build_index(corpus_dir, where["index_dir"], embedder=embedder, backend=where["backend"], **options)


def load(where, embedder, **options):
    return load_index(where["index_dir"], embedder=embedder, backend=where["backend"], **options)


def test_build_then_search_cites_exact_slices(corpus_dir, where, fake_embedder):
    report = build(corpus_dir, where, fake_embedder)
    assert report.files == 7 and report.embedded == report.units > 0
    index = load(where, fake_embedder)
    texts = {d.path: d.text for d in read_corpus(corpus_dir)[0]}
    hits = index.search("大熊猫每天吃多少竹子", top_k=3)
    assert hits[0].passage.doc_path == "panda.txt" and "竹子" in hits[0].answer.text
    for hit in hits:
        assert texts[hit.passage.doc_path][hit.passage.char_start : hit.passage.char_end] == hit.passage.text
        assert index.document_text(hit.passage.doc_path)[hit.answer.char_start : hit.answer.char_end] == hit.answer.text
    assert index.passage(hits[0].passage.id) == hits[0].passage
    assert [p.doc_path for p in index.document_passages("panda.txt")] == ["panda.txt"] * len(index.document_passages("panda.txt"))


def test_each_leg_finds_its_passage(corpus_dir, where, fake_embedder):
    build(corpus_dir, where, fake_embedder)
    index = load(where, fake_embedder)
    for mode in ("dense", "lexical", "hybrid"):
        assert index.search("龙井茶产于哪里", top_k=2, mode=mode)[0].passage.doc_path == "tea.txt", mode
    lexical = index.search("龙井茶", top_k=5, mode="lexical")
    assert lexical and all(h.lexical_score > 0 and h.dense_score is None for h in lexical)
    dense = index.search("龙井茶", top_k=5, mode="dense")
    assert len(dense) == 5 and all(h.lexical_score is None for h in dense)
    assert index.search("量子色动力学", top_k=5, mode="lexical") == []


def test_dense_leg_scores_a_passage_by_its_best_sentence(corpus_dir, where, fake_embedder):
    build(corpus_dir, where, fake_embedder)
    store = load(where, fake_embedder).store
    query_vector = fake_embedder.embed(["龙井茶产于哪里"], is_query=True)[0]
    passages = list(range(len(store.all_passages())))
    best = [float(max(store.sentences(p).vectors @ query_vector)) for p in passages]
    assert store.dense.similarities(passages, query_vector) == pytest.approx(best, abs=1e-6)


def test_milvus_reads_answers_longer_than_one_query(corpus_dir, tmp_path, fake_embedder, monkeypatch):
    """Past Milvus' cap on one query's rows, reads go on with an iterator."""
    from qa.storage import milvus

    where = {"index_dir": None, "backend": f"milvus:{tmp_path / 'm.db'}"}
    build(corpus_dir, where, fake_embedder)
    whole = load(where, fake_embedder).store.all_passages()
    monkeypatch.setattr(milvus, "QUERY_LIMIT", 4)
    assert len(whole) > 4 and load(where, fake_embedder).store.all_passages() == whole


def test_lexical_leg_says_how_much_of_the_question_the_collection_has(corpus_dir, where, fake_embedder):
    build(corpus_dir, where, fake_embedder)
    lexical = load(where, fake_embedder).store.lexical
    assert lexical.search("龙井茶产于杭州", pool=10).coverage == 1.0
    assert lexical.search("龙井茶和量子色动力学", pool=10).coverage == pytest.approx(0.5, abs=0.25)
    assert lexical.search("量子色动力学", pool=10).coverage == 0.0
    english = "Where does Longjing tea come from?"
    assert lexical.search(english, pool=10).coverage == 0.0  # no Chinese word of the question...
    assert lexical.search(english, pool=10, translations=crosslingual.translation_groups(english)).coverage > 0  # ...but its translations


def test_both_backends_rank_alike(corpus_dir, tmp_path, fake_embedder):
    """Same passages, same order: the legs differ in where they run, not in what they score."""
    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder, backend="local")
    build_index(corpus_dir, None, embedder=fake_embedder, backend=f"milvus:{tmp_path / 'm.db'}")
    local = load_index(tmp_path / "index", embedder=fake_embedder, backend="local")
    milvus = load_index(None, embedder=fake_embedder, backend=f"milvus:{tmp_path / 'm.db'}")
    for question in ("大熊猫每天吃多少竹子", "龙井茶产于哪里", "地铁日均客运量", "coral bleaching", "玉山有多高"):
        for mode in ("hybrid", "dense", "lexical"):
            ours, theirs = local.search(question, top_k=3, mode=mode), milvus.search(question, top_k=3, mode=mode)
            assert [h.passage.id for h in ours] == [h.passage.id for h in theirs], (question, mode)


def test_incremental_update_embeds_only_what_changed(corpus_dir, where, fake_embedder):
    first = build(corpus_dir, where, fake_embedder)
    (corpus_dir / "tea.txt").write_text("龙井茶产于杭州西湖。碧螺春产于苏州太湖。", encoding="utf-8")
    (corpus_dir / "new.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    (corpus_dir / "reef.txt").unlink()
    fake_embedder.embedded.clear()
    second = build(corpus_dir, where, fake_embedder)
    assert 0 < second.embedded < first.units and second.reused > 0 and second.removed > 0
    assert all("黄鹤楼" in text or "碧螺春" in text or "龙井茶" in text for text in fake_embedder.embedded)
    index = load(where, fake_embedder)
    assert index.search("黄鹤楼在哪里", top_k=1)[0].passage.doc_path == "new.txt"
    assert "碧螺春" in index.search("碧螺春产于哪里", top_k=1)[0].passage.text
    with pytest.raises(NotFoundError):
        index.document_passages("reef.txt")
    assert {f["path"] for f in index.manifest.files} == {d.path for d in read_corpus(corpus_dir)[0]}
    assert index.manifest.passage_count == len(index.passages)
    assert build(corpus_dir, where, fake_embedder).up_to_date


def test_filters_apply_before_ranking(corpus_dir, where, fake_embedder):
    build(corpus_dir, where, fake_embedder)
    index = load(where, fake_embedder)
    reef = len(index.document_passages("reef.txt"))
    assert reef >= 2
    # A Chinese question would rank reef.txt last: a filter applied after top_k would return nothing.
    for mode in ("hybrid", "dense"):
        hits = index.search("大熊猫每天吃多少竹子", top_k=reef, mode=mode, where=Filter(doc_globs=("reef*",)))
        assert len(hits) == reef and {h.passage.doc_path for h in hits} == {"reef.txt"}, mode
    hits = index.search("地铁", top_k=5, where=Filter(types=("md",)))
    assert hits and {h.passage.doc_path for h in hits} == {"transport.md"}
    hits = index.search("地铁", top_k=5, mode="lexical", where=Filter(doc_globs=("transport_trad.txt", "*.md")))
    # the traditional-script copy folds into the simplified one
    assert {s.doc_path for h in hits for s in h.also_in} | {h.passage.doc_path for h in hits} == {"transport.md", "transport_trad.txt"}
    with pytest.raises(BadInputError, match="no indexed document matches --doc nope"):
        index.search("地铁", where=Filter(doc_globs=("nope",)))
    with pytest.raises(BadInputError, match="unknown document type"):
        Filter(types=("exe",))


def test_named_collections_keep_their_corpus(corpus_dir, tmp_path, where, fake_embedder):
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(corpus_dir / "tea.txt", other / "tea.txt")
    build(corpus_dir, where, fake_embedder)
    build(other, where, fake_embedder, collection="teas")
    names = {c["name"]: c for c in list_collections(where["index_dir"], where["backend"])}
    assert set(names) == {"default", "teas"}
    assert names["teas"]["corpus_dir"] == str(other.resolve()) and names["teas"]["file_count"] == 1
    assert {p.doc_path for p in load(where, fake_embedder, collection="teas").passages} == {"tea.txt"}
    with pytest.raises(CorpusConflictError, match="holds the index of"):
        build(other, where, fake_embedder)
    assert len(load(where, fake_embedder).manifest.files) == 7, "the refused build changed nothing"
    build(other, where, fake_embedder, replace=True)
    assert {p.doc_path for p in load(where, fake_embedder).passages} == {"tea.txt"}


def test_missing_collection_and_model_mismatch_are_clear_errors(corpus_dir, where, fake_embedder):
    with pytest.raises(IndexMissingError):
        load(where, fake_embedder)
    build(corpus_dir, where, fake_embedder)
    with pytest.raises(IndexMissingError):
        load(where, fake_embedder, collection="nope")
    with pytest.raises(ModelMismatchError, match="was built with model 'fake'"):
        load_index(where["index_dir"], model="st:other-model", backend=where["backend"])
    with pytest.raises(BadInputError, match="bad collection name"):
        load(where, fake_embedder, collection="../x")


def test_a_reopened_index_answers_the_same(corpus_dir, where, fake_embedder):
    build(corpus_dir, where, fake_embedder)
    before = [h.passage.id for h in load(where, fake_embedder).search("地铁日均客运量", top_k=3)]
    again = load(where, fake_embedder)
    assert [h.passage.id for h in again.search("地铁日均客运量", top_k=3)] == before
    assert again.generation == load(where, fake_embedder).generation


def test_an_index_reopens_in_a_new_process(corpus_dir, where):
    """Built by one `qa index`, asked by another `qa ask`: nothing lives only in the building process."""
    target = ["--backend", where["backend"]] + (["--index-dir", str(where["index_dir"])] if where["index_dir"] else [])
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    run = lambda *args: subprocess.run([sys.executable, "-m", "qa", *args, *target], capture_output=True, text=True, timeout=300, env=env)
    built = run("index", str(corpus_dir), "--model", "py:fakes:FakeEmbedder")
    assert built.returncode == 0, built.stderr
    assert "prefix dict" not in built.stderr, built.stderr  # jieba's own chatter stays out of qa's output
    asked = run("ask", "大熊猫每天吃多少竹子", "--json", "-k", "1")
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["hits"][0]["doc_path"] == "panda.txt"
    listed = run("collections")  # a process that opens no collection first (Milvus loads per process)
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].startswith("default\t"), listed.stderr


@pytest.mark.parametrize("spec, kind, uri", [
    ("local", "local", ""),
    ("milvus://db.example:19530", "milvus", "http://db.example:19530"),
    ("https://milvus.example", "milvus", "https://milvus.example"),
])
def test_backend_specs(spec, kind, uri):
    assert (parse_backend(spec).kind, parse_backend(spec).uri) == (kind, uri)


def test_asking_a_milvus_lite_file_that_is_not_there_does_not_create_it(tmp_path):
    from qa.errors import IndexMissingError

    backend = f"milvus:{tmp_path / 'new.db'}"
    with pytest.raises(IndexMissingError, match=r"no collection 'default' .*\(no such file yet\)"):
        load_index(None, backend=backend)
    assert list_collections(None, backend) == []
    assert not (tmp_path / "new.db").exists()


@pytest.mark.parametrize("spec", ["milvus", "milvus:", "faiss", "milvus:/tmp/x.sqlite"])
def test_bad_backend_specs_are_refused(spec):
    with pytest.raises(BadInputError, match="unknown backend"):
        parse_backend(spec)


def test_an_unreachable_server_is_a_one_line_error(tmp_path):
    port = _free_port()
    result = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "龙井茶", "--backend", f"milvus://127.0.0.1:{port}", "--corpus-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr


def test_milvus_lite_as_a_server_on_loopback(corpus_dir, tmp_path, fake_embedder):
    """The path a Milvus server or cluster takes: pymilvus over gRPC to `milvus-lite server`."""
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "milvus-lite"), "server", "--data-dir", str(tmp_path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, server)
        backend = f"milvus://127.0.0.1:{port}"
        build_index(corpus_dir, None, embedder=fake_embedder, backend=backend, collection="shared")
        (corpus_dir / "new.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
        assert build_index(corpus_dir, None, embedder=fake_embedder, backend=backend, collection="shared").embedded == 1
        index = load_index(None, embedder=fake_embedder, backend=backend, collection="shared")
        assert index.search("大熊猫每天吃多少竹子", top_k=1)[0].passage.doc_path == "panda.txt"
        assert index.search("黄鹤楼在哪里", top_k=1, where=Filter(types=("txt",)))[0].passage.doc_path == "new.txt"
        assert [c["name"] for c in list_collections(None, backend)] == ["shared"]
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "milvus-lite server exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError("milvus-lite server did not start")


def test_a_backend_is_one_class_the_registry_names(monkeypatch, tmp_path):
    from fakes import ListedBackend

    from qa.storage import backend

    monkeypatch.setitem(backend.BACKENDS, "local", "fakes:ListedBackend")
    ListedBackend.asked = []
    assert backend.open_store(tmp_path, collection="papers") == "store of papers"
    assert backend.open_writer(tmp_path, mode="dense") == "writer of default"
    assert backend.published_generation(tmp_path, collection="papers") == "gen-papers"
    assert [c["name"] for c in backend.list_collections(tmp_path)] == ["apple", "zebra"]
    assert ListedBackend.asked == [("store", "papers"), ("writer", "default", "dense")]
    with pytest.raises(BadInputError, match="bad collection name"):
        backend.open_store(tmp_path, collection="no such name!")  # names are checked before any backend sees them
