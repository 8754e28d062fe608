"""The Milvus backend beyond the contract every backend keeps (tests/test_backend.py): the
version contract (BM25 needs Milvus 2.5: older servers get dense-only collections), and the
tests marked `milvus_server`, which run against a real Milvus 2.3.5 server (tests/milvus_server.py):
read-your-writes across builds and readers, two processes, and a server that goes away."""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa import build_index, load_index
from qa.embedding.embedders import load_embedder
from qa.interfaces.cli import app
from qa.errors import BadInputError, IndexDamagedError, IndexVersionError, NotFoundError, QAError
from qa.retrieve.filters import Filter
from qa.live import LiveIndex
from qa.storage import milvus
from qa.storage.backend import list_collections, open_writer

TESTS_DIR = Path(__file__).parent
FAKE_MODEL = "py:fakes:FakeEmbedder"  # importable by a subprocess, with tests/ on PYTHONPATH
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("version, has_it", [
    ("v2.3.5-lite", False), ("v2.4.15", False), ("2.5.0", True), ("v2.6.1", True), ("milvus_lite-3.2.2", True), ("unknown", True),
])
def test_bm25_needs_milvus_2_5(version, has_it):
    assert milvus.has_bm25(version) is has_it


def test_what_an_old_server_gets_by_mode():
    writer = milvus.MilvusWriter("http://127.0.0.1:1", "docs")
    modes, notes = writer._modes("v2.3.5-lite")
    assert modes == ("dense",) and len(notes) == 1
    assert "v2.3.5-lite" in notes[0] and "Milvus 2.5" in notes[0] and "collection docs is dense-only" in notes[0]
    assert milvus.MilvusWriter("http://127.0.0.1:1", "docs", "dense")._modes("2.5.0") == (("dense",), ())
    assert milvus.MilvusWriter("http://127.0.0.1:1", "docs")._modes("2.5.0") == (("hybrid", "dense", "lexical"), ())
    with pytest.raises(BadInputError, match="v2.3.5-lite .* no BM25.*build with --mode dense"):
        milvus.MilvusWriter("http://127.0.0.1:1", "docs", "hybrid")._modes("v2.3.5-lite")


def test_a_local_index_has_no_dense_only_form(tmp_path):
    with pytest.raises(BadInputError, match="local index always holds both legs"):
        open_writer(tmp_path, "local", None, "dense")
    with pytest.raises(BadInputError, match="not 'lexical'"):
        open_writer(tmp_path, "local", None, "lexical")


def test_a_dense_only_collection_on_milvus_lite(corpus_dir, tmp_path, use_fake_model, monkeypatch):
    """Asked for with --mode dense on any server; its questions default to dense, and the
    modes it cannot answer are refused in one line."""
    monkeypatch.setenv("QA_BACKEND", f"milvus:{tmp_path / 'qa.db'}")
    result = invoke("index", corpus_dir, "--mode", "dense")
    assert result.exit_code == 0 and "note:" not in result.output, result.output
    answered = invoke("ask", "龙井茶产于哪里", "--json")
    assert answered.exit_code == 0 and json.loads(answered.stdout)["mode"] == "dense"
    assert json.loads(answered.stdout)["hits"][0]["doc_path"] == "tea.txt"
    for mode in ("hybrid", "lexical"):
        refused = invoke("ask", "龙井茶产于哪里", "--mode", mode)
        assert refused.exit_code == 2 and len(refused.output.splitlines()) == 1, refused.output
        assert "is a dense-only collection" in refused.output and f"{mode} search needs its lexical leg" in refused.output
    # An update keeps what the collection is; asking for both legs rebuilds it with both.
    assert "modes:    dense (Milvus milvus_lite-" in invoke("info").output
    assert "up to date" in invoke("index", corpus_dir).output
    assert invoke("index", corpus_dir, "--mode", "hybrid").exit_code == 0
    assert "modes:    hybrid, dense, lexical" in invoke("info").output
    answered = invoke("ask", "龙井茶产于哪里", "--json", "--mode", "lexical")
    assert answered.exit_code == 0 and json.loads(answered.stdout)["hits"][0]["doc_path"] == "tea.txt"
    assert json.loads(invoke("ask", "龙井茶产于哪里", "--json").stdout)["mode"] == "hybrid"


def test_a_rebuild_keeps_the_collections_when_their_shape_fits(corpus_dir, tmp_path, fake_embedder):
    """So that a reader keeps the published generation while a --rebuild writes the next."""
    backend = f"milvus:{tmp_path / 'qa.db'}"
    build_index(corpus_dir, None, embedder=fake_embedder, backend=backend)
    reader = load_index(None, embedder=fake_embedder, backend=backend)
    dropped = []
    client = milvus._client(str(tmp_path / "qa.db"))
    real_drop = client._client.drop_collection
    client._client.drop_collection = lambda name, **kw: dropped.append(name) or real_drop(name, **kw)
    try:
        build_index(corpus_dir, None, embedder=fake_embedder, backend=backend, rebuild=True)
    finally:
        client._client.drop_collection = real_drop
    assert dropped == []
    fresh = load_index(None, embedder=fake_embedder, backend=backend)
    assert fresh.generation != reader.generation and fresh.manifest.passage_count == reader.manifest.passage_count
    assert fresh.search("龙井茶产于哪里", top_k=1)[0].passage.doc_path == "tea.txt"


def test_a_collection_from_a_newer_qa_is_refused_in_one_line(corpus_dir, tmp_path, fake_embedder, use_fake_model, monkeypatch):
    db = tmp_path / "qa.db"
    build_index(corpus_dir, None, embedder=fake_embedder, backend=f"milvus:{db}")
    client = milvus._client(str(db))
    manifest = json.loads(milvus._meta_row(client, "default"))

    def rewrite_meta(**fields):
        client.upsert(milvus.META, [{"name": "default", "manifest": json.dumps(dict(manifest, **fields)), "dummy": [0.0, 0.0]}])

    rewrite_meta(format_version=milvus.OLDEST_FORMAT - 1)
    with pytest.raises(IndexVersionError, match=r"built by an older qa \(format 0\); rebuild it"):  # as a local index says it
        load_index(None, embedder=fake_embedder, backend=f"milvus:{db}")
    rewrite_meta(dim="384")
    with pytest.raises(IndexDamagedError, match="manifest field 'dim'"):
        load_index(None, embedder=fake_embedder, backend=f"milvus:{db}")
    rewrite_meta(format_version=milvus.FORMAT_VERSION + 1)
    with pytest.raises(IndexVersionError, match="written by a newer qa"):
        load_index(None, embedder=fake_embedder, backend=f"milvus:{db}")
    monkeypatch.setenv("QA_BACKEND", f"milvus:{db}")
    refused = invoke("ask", "龙井茶")
    assert refused.exit_code == 2 and refused.output.startswith("error: collection 'default' in Milvus at") and "upgrade qa" in refused.output.splitlines()[0]
    (corpus_dir / "new.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    with pytest.raises(IndexVersionError, match="written by a newer qa"):
        build_index(corpus_dir, None, embedder=fake_embedder, backend=f"milvus:{db}")  # an update
    build_index(corpus_dir, None, embedder=fake_embedder, backend=f"milvus:{db}", rebuild=True)  # a rebuild makes it this qa's
    assert load_index(None, embedder=fake_embedder, backend=f"milvus:{db}").manifest.format_version == milvus.FORMAT_VERSION


def test_a_damaged_manifest_under_a_long_running_reader_is_one_error(corpus_dir, tmp_path, fake_embedder):
    # The reader's poll before each question reads the generation alone; a manifest that has
    # none is the same IndexDamagedError as on opening, not a KeyError.
    db = tmp_path / "qa.db"
    build_index(corpus_dir, None, embedder=fake_embedder, backend=f"milvus:{db}")
    client = milvus._client(str(db))
    manifest = json.loads(milvus._meta_row(client, "default"))
    assert milvus.milvus_generation(str(db), "default") == f"gen-{manifest['generation']}"
    del manifest["generation"]
    client.upsert(milvus.META, [{"name": "default", "manifest": json.dumps(manifest), "dummy": [0.0, 0.0]}])
    with pytest.raises(IndexDamagedError, match=r"collection 'default' in Milvus at .* is damaged"):
        milvus.milvus_generation(str(db), "default")


# ---- against a real Milvus 2.3.5 server ------------------------------------------------------


def _name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"  # each test its own collection on the session's server


@pytest.mark.milvus_server
def test_an_old_server_builds_dense_only_and_says_so_in_one_line(milvus_server, corpus_dir, use_fake_model):
    name = _name()
    refused = invoke("index", corpus_dir, "--backend", milvus_server.uri, "-c", name, "--mode", "hybrid")
    errors = [line for line in refused.output.splitlines() if not line.startswith("qa index: reading")]
    assert refused.exit_code == 2 and len(errors) == 1, refused.output  # refused before any embedding
    assert errors[0].startswith("error: Milvus v2.3.5") and "Milvus 2.5" in errors[0] and "--mode dense" in errors[0]
    assert name not in [c["name"] for c in list_collections(None, milvus_server.uri)]
    built = invoke("index", corpus_dir, "--backend", milvus_server.uri, "-c", name)
    assert built.exit_code == 0, built.output
    notes = [line for line in built.output.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "v2.3.5" in notes[0] and f"collection {name} is dense-only" in notes[0]
    answered = invoke("ask", "龙井茶产于哪里", "--backend", milvus_server.uri, "-c", name, "--json")
    assert answered.exit_code == 0 and json.loads(answered.stdout)["mode"] == "dense"
    assert json.loads(answered.stdout)["hits"][0]["doc_path"] == "tea.txt"
    refused = invoke("ask", "龙井茶产于哪里", "--backend", milvus_server.uri, "-c", name, "--mode", "lexical")
    assert refused.exit_code == 2 and "dense-only collection (built on Milvus v2.3.5" in refused.output
    shown = invoke("show", json.loads(answered.stdout)["hits"][0]["passage_id"], "--backend", milvus_server.uri, "-c", name)
    assert shown.exit_code == 0 and "龙井" in shown.output


@pytest.mark.milvus_server
def test_read_your_writes_on_a_server(milvus_server, corpus_dir, fake_embedder):
    """A build's own reads, a reader opening just after it, and the catalogue see what was just
    written: with a server's default Bounded reads, the update re-embedded everything, the load
    found no collection and the catalogue was empty."""
    name, uri = _name(), milvus_server.uri
    first = build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name)
    index = load_index(None, embedder=fake_embedder, backend=uri, collection=name)
    assert index.search("龙井茶产于哪里", top_k=1)[0].passage.doc_path == "tea.txt"
    assert name in [c["name"] for c in list_collections(None, uri)]
    (corpus_dir / "new.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    (corpus_dir / "reef.txt").unlink()
    fake_embedder.embedded.clear()
    second = build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name)
    assert second.embedded == 1 and fake_embedder.embedded == ["黄鹤楼位于武汉蛇山之巅。"]
    assert second.reused == second.units - 1 and second.removed > 0 and second.units < first.units + 1
    index = load_index(None, embedder=fake_embedder, backend=uri, collection=name)
    assert index.search("黄鹤楼在哪里", top_k=1)[0].passage.doc_path == "new.txt"
    with pytest.raises(NotFoundError):
        index.document_passages("reef.txt")
    assert {f["path"] for f in index.manifest.files} == {p.name for p in corpus_dir.iterdir()}
    hits = index.search("黄鹤楼在哪里", top_k=5, where=Filter(doc_globs=("tea*",)))
    assert hits and {h.passage.doc_path for h in hits} == {"tea.txt"}
    assert build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name).up_to_date


@pytest.mark.milvus_server
def test_a_rebuild_under_a_reader(milvus_server, corpus_dir, fake_embedder):
    """A reader (as `qa serve` holds one) keeps answering while a --rebuild writes the next
    generation, and then answers from it."""
    name, uri = _name(), milvus_server.uri
    build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name)
    live = LiveIndex(None, embedder=fake_embedder, backend=uri, collection=name)
    before = live.current().generation
    (corpus_dir / "tea.txt").write_text("龙井茶产于杭州西湖。碧螺春产于苏州太湖。", encoding="utf-8")
    failures, answers = [], 0
    building = threading.Thread(target=lambda: build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name, rebuild=True))
    building.start()
    while building.is_alive():
        try:
            live.current().search("大熊猫每天吃多少竹子", top_k=1)
            answers += 1
        except QAError as exc:
            failures.append(exc)
    building.join()
    assert not failures and answers > 0
    deadline = time.monotonic() + 30  # the reader polls the published generation with a Bounded read
    while live.current().generation == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert live.current().generation != before
    assert "碧螺春" in live.current().search("碧螺春产于哪里", top_k=1)[0].passage.text


@pytest.mark.milvus_server
def test_a_build_and_a_reader_in_two_processes(milvus_server, corpus_dir):
    """`qa index` in one process while a reader (as `qa serve` holds one) answers in another:
    the files the build leaves alone are found all along, and then the new one."""
    name, uri = _name(), milvus_server.uri
    embedder = load_embedder(FAKE_MODEL)
    build_index(corpus_dir, None, embedder=embedder, backend=uri, collection=name)
    (corpus_dir / "new.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_MODEL=FAKE_MODEL)
    building = subprocess.Popen(
        [sys.executable, "-m", "qa", "index", str(corpus_dir), "--backend", uri, "-c", name], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    reader = LiveIndex(None, embedder=embedder, backend=uri, collection=name)
    while building.poll() is None:
        assert reader.current().search("龙井茶产于哪里", top_k=1)[0].passage.doc_path == "tea.txt"
    out, err = building.communicate()
    assert building.returncode == 0, err
    assert "1 new" in out
    asked = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "黄鹤楼在哪里", "--backend", uri, "-c", name, "--json", "-k", "1"], env=env, capture_output=True, text=True, timeout=300,
    )
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["hits"][0]["doc_path"] == "new.txt"


@pytest.mark.milvus_server
def test_a_server_that_stops_answering_mid_build(milvus_server, corpus_dir, fake_embedder, monkeypatch):
    """The build fails in one line, and the generation published before is what readers get."""
    name, uri = _name(), milvus_server.uri
    build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name)
    published = load_index(None, embedder=fake_embedder, backend=uri, collection=name).generation
    (corpus_dir / "new.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    real_insert = milvus.MilvusWriter._insert_rows

    def insert_then_stall(self, *args, **kwargs):
        real_insert(self, *args, **kwargs)
        milvus_server.pause()

    monkeypatch.setattr(milvus, "CALL_TIMEOUT", 3.0)
    monkeypatch.setattr(milvus, "FLUSH_TIMEOUT", 3.0)
    monkeypatch.setattr(milvus.MilvusWriter, "_insert_rows", insert_then_stall)
    try:
        with pytest.raises(milvus.BackendError) as failed:
            build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name)
        assert len(str(failed.value).splitlines()) == 1 and uri in str(failed.value)
        with pytest.raises(milvus.BackendError):
            load_index(None, embedder=fake_embedder, backend=uri, collection=name)
    finally:
        milvus_server.resume()
    monkeypatch.undo()
    index = load_index(None, embedder=fake_embedder, backend=uri, collection=name)
    assert index.generation == published and "new.txt" not in {f["path"] for f in index.manifest.files}
    assert index.search("龙井茶产于哪里", top_k=1)[0].passage.doc_path == "tea.txt"
    assert index.search("黄鹤楼在哪里", top_k=1)[0].passage.doc_path != "new.txt"  # the failed build's rows are not seen
    assert build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name).embedded == 1


@pytest.mark.milvus_server
def test_a_server_killed_under_a_question_is_one_line(milvus_server, corpus_dir, fake_embedder):
    name, uri = _name(), milvus_server.uri
    build_index(corpus_dir, None, embedder=fake_embedder, backend=uri, collection=name)
    live = LiveIndex(None, embedder=fake_embedder, backend=uri, collection=name)
    assert live.current().search("龙井茶产于哪里", top_k=1)[0].passage.doc_path == "tea.txt"
    milvus_server.kill()
    try:
        with pytest.raises(milvus.BackendError) as failed:
            live.current().search("龙井茶产于哪里", top_k=1)
        assert len(str(failed.value).splitlines()) == 1 and uri in str(failed.value)
        asked = subprocess.run([sys.executable, "-m", "qa", "ask", "龙井茶", "--backend", uri, "-c", name], capture_output=True, text=True, timeout=300)
        assert asked.returncode == 2 and asked.stderr.startswith("error: ") and len(asked.stderr.strip().splitlines()) == 1, asked.stderr
        assert uri in asked.stderr
    finally:
        milvus_server.start_afresh()  # for any test after this one


def test_a_hybrid_build_asks_the_server_its_version_once(corpus_dir, tmp_path, fake_embedder, use_fake_model, monkeypatch):
    asked = []
    real = milvus.server_version
    monkeypatch.setattr(milvus, "server_version", lambda client: asked.append(1) or real(client))
    build_index(corpus_dir, None, embedder=fake_embedder, backend=f"milvus:{tmp_path / 'qa.db'}", mode="hybrid")
    assert len(asked) == 1, "the lock and the write share one answer"
