import contextlib
import hashlib
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

DATA_DIR = Path(__file__).parent / "data"
TEST_CORPUS_DIR = DATA_DIR / "corpus"
SEED_CORPUS_DIR = Path(__file__).parents[1] / "corpus"

# Requests every interface parses (right types) but qa.search.SearchRequest refuses: the CLI,
# HTTP and MCP tests each check that they refuse them in the library's words.
BAD_SEARCH_REQUESTS = [
    {"question": "龙井茶", "top_k": 0},
    {"question": "龙井茶", "top_k": 101},
    {"question": "茶" * 2001},
    {"question": "？？？"},
    {"question": "龙井茶", "collection": "no such name!"},
    {"question": "龙井茶", "type": ["xls"]},
]


def refusal(options: dict) -> str:
    """What the library says to a bad request (the message every interface passes on)."""
    from qa.errors import BadInputError
    from qa.retrieve.filters import Filter
    from qa.search import SearchRequest

    try:
        SearchRequest(options["question"], options.get("top_k", 5), options.get("mode"), Filter(types=tuple(options.get("type", ()))), options.get("collection"))
    except BadInputError as exc:
        return str(exc)
    raise AssertionError(f"the library takes {options}")


class FakeEmbedder:
    """Deterministic, fast, and similar texts get similar vectors (hashed character bigrams)."""

    spec = "fake"
    dim = 256

    def __init__(self):
        self.calls = 0
        self.embedded: list[str] = []

    def embed(self, texts, is_query=False):
        self.calls += 1
        self.embedded.extend(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for i in range(max(len(text) - 1, 1)):
                gram = text[i : i + 2].encode()
                vectors[row, int(hashlib.md5(gram).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


@pytest.fixture(scope="session", autouse=True)
def model_cache_dir(tmp_path_factory):
    """The int8 engine's built model goes to a cache dir of this session, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("xdg-cache")
        patch.setenv("XDG_CACHE_HOME", str(path))
        yield path


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def corpus_dir(tmp_path):
    """A writable copy of the small test corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(TEST_CORPUS_DIR, target)
    return target


@pytest.fixture
def fake_index(corpus_dir, tmp_path, fake_embedder):
    from qa import build_index, load_index

    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    return load_index(index_dir, embedder=fake_embedder)


@pytest.fixture
def two_collections(corpus_dir, tmp_path, fake_embedder):
    """An index folder with two collections: the default (the test corpus) and "cranes" (one
    file, crane.txt)."""
    from qa import build_index

    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    other = tmp_path / "other"
    other.mkdir()
    (other / "crane.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    build_index(other, index_dir, embedder=fake_embedder, collection="cranes")
    return index_dir


@pytest.fixture
def use_fake_model(monkeypatch):
    """Make every model spec load the fake embedder (for CLI tests)."""
    from qa import builder, search

    fake = FakeEmbedder()
    monkeypatch.setattr(builder, "load_embedder", lambda spec=None: fake)
    monkeypatch.setattr(search, "load_embedder", lambda spec=None: fake)
    monkeypatch.setattr(builder, "canonical_spec", lambda spec=None: "fake")
    monkeypatch.setattr(search, "canonical_spec", lambda spec=None: spec or "fake")
    return fake


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """A real Milvus 2.3.5 server for the session (tests/milvus_server.py), installed into a
    virtualenv of its own unless QA_TEST_MILVUS_SERVER names a `milvus-server` to use. Where it
    cannot be installed its tests skip, except under CI=true, where they fail."""
    import os
    import subprocess

    from milvus_server import PACKAGE, MilvusServer, install

    try:
        given = os.environ.get("QA_TEST_MILVUS_SERVER")
        command = Path(given) if given else install(tmp_path_factory.mktemp("milvus-server-venv"))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"cannot install {PACKAGE}: {exc}")
    server = MilvusServer(command, tmp_path_factory.mktemp("milvus-server") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def e5_test_index(tmp_path_factory):
    """The small test corpus indexed with the real default model, once per session."""
    from qa import build_index, load_index

    index_dir = tmp_path_factory.mktemp("e5") / "index"
    build_index(TEST_CORPUS_DIR, index_dir)
    return load_index(index_dir)


@pytest.fixture(scope="session")
def e5_seed_index(tmp_path_factory):
    """The bundled seed corpus indexed with the real default model, once per session."""
    from qa import build_index, load_index

    index_dir = tmp_path_factory.mktemp("seed") / "index"
    build_index(SEED_CORPUS_DIR, index_dir)
    return load_index(index_dir)


@contextlib.contextmanager
def running_server(app):
    """`app` served by uvicorn on a free loopback port in a background thread; yields its base URL."""
    import threading

    import uvicorn

    from qa.interfaces.server.run import bind, uvicorn_config

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def cited_passages(document) -> list:
    """The document's passages, each checked to be exactly the text its offsets point at."""
    from qa.ingest.chunker import split_document

    passages = split_document(document)
    assert passages
    for passage in passages:
        assert document.text[passage.char_start : passage.char_end] == passage.text
    return passages


def default_sigint() -> None:
    """Popen preexec_fn: the child takes Ctrl-C as from a terminal. A test run started in the
    background by a shell inherits SIGINT ignored, and Python keeps it ignored."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
