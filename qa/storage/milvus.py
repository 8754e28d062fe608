"""The Milvus backend: a collection's passages, sentences and documents in Milvus (Milvus Lite
embedded in a .db file, or a Milvus server or cluster), searched by both legs server-side.

A qa collection NAME is four Milvus collections, and a row in `qa_meta`:

    qa_NAME_passages   one row per passage: its JSON, path, format, normalized text analyzed by
                       jieba (qa's stop words filtered) into a BM25 sparse vector (the lexical leg)
    qa_NAME_sentences  one row per sentence: passage id, offsets, normalized text, embedding-cache
                       key, vector (the dense leg, grouped by passage client-side)
    qa_NAME_documents  the cited text of each document, in parts (VARCHAR holds 64 KiB)
    qa_NAME_files      the manifest's file list, one row per file (with a digest of its text)
    qa_meta            one row per collection: the manifest without files, and its generation

Every row carries the generation that wrote it, and readers see only rows of the published
generation or older. A build inserts the changed files' rows under a new generation (unseen),
deletes the rows they replace and those of removed files, then publishes by updating qa_meta:
a build that dies leaves rows nobody sees, which the next build deletes first. Between the
delete and the publish (a moment) the changed files are missing, never half-written.

pymilvus is imported only here, and only when a milvus backend is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ..errors import BadInputError, IndexDamagedError, IndexMissingError, IndexVersionError, QAError
from ..models import MODES, Document, Passage, Sentences, document_from_dict
from .bm25 import K1, STOP_WORDS, B, coverage, query_groups, tokenize
from .manifest import Manifest, checked_manifest
from .records import DEFAULT_COLLECTION, Contents, LexicalFound, Written

META = "qa_meta"
# The layout of a collection's Milvus collections and manifest. 2: search modes (dense-only
# collections), the server's version and when it was published. A collection without one is 1,
# which this qa still reads (both legs, read Bounded).
FORMAT_VERSION = 2
OLDEST_FORMAT = 1
PART_CHARS = 16_000  # a VARCHAR holds 65,535 bytes: up to 4 per character
BATCH = 1_000  # rows per insert and ids per `in` filter
QUERY_LIMIT = 16_384  # Milvus' cap on one query's rows
LEXICAL_SINCE = (2, 5)  # Milvus' BM25 function, jieba analyzer and sparse inverted index
LEXICAL_SINCE_TEXT = ".".join(map(str, LEXICAL_SINCE))
# A server's flush seals and indexes segments: seconds on a small collection (22 s for a build a
# Milvus Lite file takes 4 s over), minutes on a big one. Other calls get a minute.
CALL_TIMEOUT = 60.0
FLUSH_TIMEOUT = 600.0
# A Milvus server's default reads (Bounded) may miss the last few seconds' writes; a Strong read
# waits for the server's next time tick (400 ms on the 2.3 server). So: a build reads Strong, and
# so does whatever finds the published generation for a reader (qa_meta). A reader's searches
# read Strong only in the first minute after a publish, and Bounded after that, when all of the
# generation's writes are older than Milvus' staleness bound (gracefulTime, 5 s by default) with
# room for the builder's clock being behind the reader's.
FRESH_SECONDS = 60.0
PUNCTUATION = list("，。、；：？！“”‘’（）《》【】—…·,.;:?!\"'()[]<>-")
_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


class BackendError(QAError):
    """Milvus cannot be reached, or refused a request."""


def _client(uri: str):
    if uri.endswith(".db"):
        # The client pings Milvus Lite's in-process server more often than it allows, and grpc's
        # core prints each refusal (harmless: the connection is kept) on stderr.
        os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise BadInputError("--backend milvus needs the milvus extra: pip install 'qa[milvus]'") from None
    import logging

    # pymilvus logs every failed call with a traceback; qa reports failures as one line itself.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    # Milvus Lite cuts text with jieba in this process, which announces its dictionary on stderr.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    # Milvus Lite's in-process server lacks AllocTimestamp, which query iterators try first (then
    # fall back to a client-side timestamp); grpc would log each try with a traceback.
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    with _clients_lock:
        if uri not in _clients:
            try:
                _clients[uri] = _Timed(MilvusClient(uri=uri, token=os.environ.get("QA_MILVUS_TOKEN", ""), timeout=10))
            except Exception as exc:  # pymilvus raises its own and grpc's errors
                raise BackendError(f"cannot reach Milvus at {uri}: {_first_line(exc)}") from None
        return _clients[uri]


class _Timed:
    """A client whose calls to the server time out (pymilvus' own default is to retry a server
    that went away for minutes), and whose searches load a collection a restarted server has
    not loaded yet."""

    CALLS = {"create_collection", "delete", "drop_collection", "flush", "get_server_version", "has_collection", "insert", "load_collection", "query", "query_iterator", "search", "upsert"}

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name: str):
        found = getattr(self._client, name)
        if name not in self.CALLS:
            return found

        def call(*args, **kwargs):
            kwargs.setdefault("timeout", FLUSH_TIMEOUT if name == "flush" else CALL_TIMEOUT)
            try:
                return found(*args, **kwargs)
            except Exception as exc:
                if name not in ("query", "search") or "not loaded" not in str(exc):
                    raise
            self._client.load_collection(args[0], timeout=CALL_TIMEOUT)
            return found(*args, **kwargs)

        return call


def server_version(client) -> str:
    """What the server says it is: "v2.3.5-lite" (the server that pip's milvus ships), "2.5.4", "milvus_lite-3.2.2"."""
    return str(client.get_server_version())


def has_bm25(version: str) -> bool:
    """Whether a server of this version has the lexical leg's BM25 (an unknown version is given the benefit)."""
    found = re.search(r"(\d+)\.(\d+)", version)
    return found is None or tuple(int(n) for n in found.groups()) >= LEXICAL_SINCE


def _first_line(exc: Exception) -> str:
    return (str(getattr(exc, "message", "")) or str(exc)).splitlines()[0][:200] if str(exc) else type(exc).__name__


@contextlib.contextmanager
def _milvus_errors(uri: str):
    try:
        yield
    except QAError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith(("pymilvus", "grpc")):
            # The next call connects afresh: a client whose server went away keeps failing
            # (grpc backs off reconnecting) after the server is back.
            with _clients_lock:
                _clients.pop(uri, None)
            raise BackendError(f"Milvus at {uri}: {_first_line(exc)}") from None
        raise


def _names(collection: str) -> dict[str, str]:
    return {part: f"qa_{collection}_{part}" for part in ("passages", "sentences", "documents", "files")}


def _in(field: str, values) -> str:
    return f"{field} in {json.dumps(list(values), ensure_ascii=False)}"


def _chunks(values: list) -> list[list]:
    return [values[start : start + BATCH] for start in range(0, len(values), BATCH)]


def _query_all(client, name: str, expr: str, fields: list[str], level: str = "Strong") -> list[dict]:
    # One query answers up to QUERY_LIMIT rows; only a longer answer needs an iterator (slower).
    rows = client.query(name, filter=expr, output_fields=fields, limit=QUERY_LIMIT, consistency_level=level)
    if len(rows) < QUERY_LIMIT:
        return rows
    iterator = client.query_iterator(name, batch_size=QUERY_LIMIT // 4, filter=expr, output_fields=fields, consistency_level=level)
    rows = []
    while True:
        batch = iterator.next()
        if not batch:
            iterator.close()
            return rows
        rows.extend(batch)


_loaded: set[tuple[int, str]] = set()


def _load(client, *names: str) -> None:
    """Collections are searchable once loaded; a server keeps them loaded, Milvus Lite per process."""
    for name in names:
        if (id(client), name) not in _loaded:
            client.load_collection(name)
            _loaded.add((id(client), name))


def _generation_name(generation: int) -> str:
    """What names a published collection (Store.generation): it changes whenever a build publishes."""
    return f"gen-{generation}"


def _read_meta(client, collection: str, where: str, level: str = "Strong") -> Manifest | None:
    """The collection's manifest (its file list is the files collection's: left empty here);
    IndexVersionError for one this qa does not read, IndexDamagedError for one it cannot."""
    text = _meta_row(client, collection, level)
    return None if text is None else _manifest(text, where)


def _meta_row(client, collection: str, level: str = "Strong") -> str | None:
    if not client.has_collection(META):
        return None
    _load(client, META)
    rows = client.query(META, filter=f'name == "{collection}"', output_fields=["manifest"], consistency_level=level)
    return rows[0]["manifest"] if rows else None


def _manifest(text: str, where: str) -> Manifest:
    try:
        data = dict(json.loads(text), files=[])
    except (ValueError, TypeError) as exc:
        raise IndexDamagedError(f"{where} is damaged (manifest unreadable: {exc})") from None
    return checked_manifest(data, data.get("format_version", 1), FORMAT_VERSION, OLDEST_FORMAT, where)


def _reading_level(manifest: Manifest) -> str:
    """How a reader of this published generation reads its rows (see FRESH_SECONDS)."""
    return "Strong" if time.time() < (manifest.published_at or 0) + FRESH_SECONDS else "Bounded"


class MilvusDenseLeg:
    def __init__(self, store: "MilvusStore"):
        self._store = store

    def search(self, query_vector: np.ndarray, pool: int, allowed: str | None = None) -> list[int]:
        store = self._store
        # Several sentences of one passage may rank high: ask for more sentences than passages.
        with _milvus_errors(store.uri):
            found = store.client.search(
                store.names["sentences"], data=[query_vector.astype(np.float32).tolist()], anns_field="vector", limit=pool * 4,
                filter=store.visible(allowed), output_fields=["pid"], search_params={"metric_type": "IP"}, consistency_level=store.level(),
            )[0]
        return list(dict.fromkeys(int(hit["entity"]["pid"]) for hit in found))

    def similarities(self, passages: list[int], query_vector: np.ndarray) -> np.ndarray:
        """Each passage scores as its best sentence, computed here from all its stored vectors.

        Not by a search grouped by passage: an approximate index leaves sentences out of a filtered
        search (Milvus Lite's AUTOINDEX found 3 of a passage's 7), and on 600 CMRC2018 questions
        dense R@1 fell from 0.9767 to 0.9700."""
        self._store.fetch_sentences(passages)
        return np.array([max((float(v @ query_vector) for v in self._store.sentences(p).vectors), default=0.0) for p in passages], dtype=np.float32)


class MilvusLexicalLeg:
    """BM25 server-side: jieba on the normalized text, qa's stop words and punctuation filtered."""

    def __init__(self, store: "MilvusStore"):
        self._store = store

    def search(self, question: str, pool: int, allowed: str | None = None, translations: list[list[str]] | None = None) -> LexicalFound:
        from ..ingest.normalize import normalize

        store = self._store
        words = normalize(question)
        groups = query_groups(list(dict.fromkeys(tokenize(words, normalized=True))), translations)
        if translations is not None:
            # Milvus scores a query as one bag of words: the translations join the question's words.
            words = " ".join([words, *(alternative for group in translations for alternative in group)])
        found = self._bm25(words, pool, store.visible(allowed))
        scores = dict(found)

        def score_of(passages: list[int]) -> np.ndarray:
            for chunk in _chunks([p for p in passages if p not in scores]):
                scores.update(self._bm25(words, len(chunk), store.visible(_in("pid", chunk))))
            return np.array([scores.get(p, 0.0) for p in passages], dtype=np.float32)

        # Milvus gives BM25 scores but not the idf a ceiling is made of. The best candidate's score
        # stands in for it: on 300 CMRC2018 questions, hybrid R@1 0.9767 against 0.9733 with the
        # ceiling rebuilt from one text_match count per question word (local: 0.9800), and cheaper.
        # Nor a vocabulary to ask whether the collection has a word: the words of the passages BM25
        # found stand in for it (a word the collection has ranks the passages holding it high).
        vocabulary = set().union(*store.words([p for p, _ in found]))
        return LexicalFound([p for p, _ in found], score_of, max((score for _, score in found), default=0.0), coverage(groups, tokenize, vocabulary.__contains__))

    def _bm25(self, words: str, limit: int, expr: str) -> list[tuple[int, float]]:
        store = self._store
        with _milvus_errors(store.uri):
            hits = store.client.search(
                store.names["passages"], data=[words], anns_field="sparse", limit=max(limit, 1), filter=expr, output_fields=["pid"], consistency_level=store.level()
            )[0]
        # BM25 scores are not negative; Milvus Lite reports them as negative distances.
        return [(int(hit["entity"]["pid"]), abs(float(hit["distance"]))) for hit in hits if hit["distance"]]


class MilvusStore:
    def __init__(self, uri: str, collection: str, manifest: Manifest):
        self.uri = uri
        self.collection = collection
        self.names = _names(collection)
        self.manifest = manifest
        self.generation = _generation_name(manifest.generation)
        self.location = f"{uri} collection {collection}"
        self.modes = manifest.modes
        self.dense = MilvusDenseLeg(self)
        self.lexical = MilvusLexicalLeg(self) if "lexical" in self.modes else None
        self._passages: dict[int, tuple[Passage, str]] = {}
        self._sentences: dict[int, list[dict]] = {}
        self._words: dict[int, frozenset[str]] = {}
        self._lock = threading.Lock()

    @property
    def client(self):
        return _client(self.uri)

    def level(self) -> str:
        return _reading_level(self.manifest)

    def visible(self, expr: str | None = None) -> str:
        published = f"gen <= {self.manifest.generation}"
        return published if not expr else f"({published}) and ({expr})"

    def files(self) -> list[dict]:
        return self.manifest.files

    def allowed(self, doc_paths: frozenset[str] | None) -> str | None:
        return None if doc_paths is None else _in("path", sorted(doc_paths))

    def fetch(self, numbers: list[int], with_sentences: bool = False) -> None:
        if with_sentences:
            self.fetch_sentences(numbers)
        for chunk in _chunks(sorted({n for n in numbers if n >= 0 and n not in self._passages})):
            with _milvus_errors(self.uri):
                rows = self.client.query(self.names["passages"], filter=self.visible(_in("pid", chunk)), output_fields=["pid", "data", "form"], consistency_level=self.level())
            with self._lock:
                for row in rows:
                    self._passages[int(row["pid"])] = (Passage(**json.loads(row["data"])), row["form"])
                for n in chunk:
                    self._passages.setdefault(n, None)

    def fetch_sentences(self, passages: list[int]) -> None:
        for chunk in _chunks(sorted({p for n in passages for p in (n - 1, n) if p >= 0 and p not in self._sentences})):
            with _milvus_errors(self.uri):
                rows = _query_all(self.client, self.names["sentences"], self.visible(_in("pid", chunk)), ["pid", "start", "end", "form", "vector"], self.level())
            grouped: dict[int, list[dict]] = {p: [] for p in chunk}
            for row in rows:
                grouped[int(row["pid"])].append(row)
            with self._lock:
                for p, found in grouped.items():
                    self._sentences[p] = sorted(found, key=lambda row: row["start"])

    def words(self, passages: list[int]) -> list[frozenset[str]]:
        """The words of each passage's normalized text, as the lexical leg cuts them (kept: jieba is slow)."""
        self.fetch(passages)
        for p in passages:
            if p not in self._words:
                words = frozenset(tokenize(self.form(p), normalized=True)) if self._passages.get(p) else frozenset()
                with self._lock:
                    self._words[p] = words
        return [self._words[p] for p in passages]

    def passage(self, p: int) -> Passage | None:
        self.fetch([p])
        found = self._passages.get(p)
        return found[0] if found else None

    def form(self, p: int) -> str:
        self.fetch([p])
        return self._passages[p][1]

    def sentences(self, p: int) -> Sentences:
        self.fetch_sentences([p])
        # The sentence before the passage, whatever it belongs to: qa.search keeps it only within a paragraph.
        rows, before = self._sentences[p], self._sentences.get(p - 1) or []
        return Sentences(
            spans=[(int(row["start"]), int(row["end"])) for row in rows],
            forms=[row["form"] for row in rows],
            vectors=np.array([row["vector"] for row in rows], dtype=np.float32).reshape(len(rows), -1),
            previous_vector=np.asarray(before[-1]["vector"], dtype=np.float32) if before else None,
        )

    def passage_tokens(self, p: int) -> None:
        return None  # not kept in Milvus (MilvusWriter.keeps_token_states)

    def number_of(self, passage_id: str) -> int | None:
        with _milvus_errors(self.uri):
            rows = self.client.query(self.names["passages"], filter=self.visible(f"passage_id == {json.dumps(passage_id)}"), output_fields=["pid"], consistency_level=self.level())
        return int(rows[0]["pid"]) if rows else None

    def document_numbers(self, doc_path: str) -> list[int] | None:
        with _milvus_errors(self.uri):
            rows = _query_all(self.client, self.names["passages"], self.visible(f"path == {json.dumps(doc_path, ensure_ascii=False)}"), ["pid"], self.level())
        return sorted(int(row["pid"]) for row in rows) or None

    def document(self, doc_path: str) -> Document:
        with _milvus_errors(self.uri):
            rows = _query_all(self.client, self.names["documents"], self.visible(f"path == {json.dumps(doc_path, ensure_ascii=False)}"), ["part", "text"], self.level())
        if not rows:
            raise BackendError(f"{self.location} lacks the text of {doc_path}: run `qa index --rebuild`")
        return document_from_dict(json.loads("".join(row["text"] for row in sorted(rows, key=lambda row: row["part"]))))

    def all_passages(self) -> list[Passage]:
        with _milvus_errors(self.uri):
            rows = _query_all(self.client, self.names["passages"], self.visible(), ["pid", "data"], self.level())
        return [Passage(**json.loads(row["data"])) for row in sorted(rows, key=lambda row: row["pid"])]

    def check(self) -> None:
        with _milvus_errors(self.uri):
            self.client.has_collection(META)


def open_milvus(uri: str, collection: str) -> MilvusStore:
    if _no_lite_file(uri):
        raise IndexMissingError(f"no collection {collection!r} in Milvus at {uri} (no such file yet)", collection=None if collection == DEFAULT_COLLECTION else collection)
    client = _client(uri)
    with _milvus_errors(uri):
        manifest = _read_meta(client, collection, f"collection {collection!r} in Milvus at {uri}")
        if manifest is None:
            raise IndexMissingError(f"no collection {collection!r} in Milvus at {uri}", collection=None if collection == DEFAULT_COLLECTION else collection)
        _load(client, *_names(collection).values())
        files = _query_all(client, _names(collection)["files"], f"gen <= {manifest.generation}", ["entry"], _reading_level(manifest))
    files = sorted((json.loads(row["entry"]) for row in files), key=lambda f: f["path"])
    return MilvusStore(uri, collection, replace(manifest, files=files))


def _no_lite_file(uri: str) -> bool:
    """A Milvus Lite file that is not there: opening a client would create it, which only a
    build should do."""
    return uri.endswith(".db") and not os.path.exists(uri)


def milvus_generation(uri: str, collection: str) -> str | None:
    if _no_lite_file(uri):
        return None
    client = _client(uri)
    with _milvus_errors(uri):
        # Asked before each question by a long-running reader: a Bounded read (no wait for the
        # server's time tick) finds a new generation seconds late; opening it reads Strong.
        # Only the generation is read: the manifest is checked when the collection is opened.
        text = _meta_row(client, collection, level="Bounded")
    if text is None:
        return None
    try:
        return _generation_name(int(json.loads(text)["generation"]))
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexDamagedError(f"collection {collection!r} in Milvus at {uri} is damaged (manifest unreadable: {exc!r})") from None


def milvus_collections(uri: str) -> list[dict]:
    if _no_lite_file(uri):
        return []
    client = _client(uri)
    with _milvus_errors(uri):
        if not client.has_collection(META):
            return []
        _load(client, META)
        rows = _query_all(client, META, 'name != ""', ["name", "manifest"])
    found = [dict(json.loads(row["manifest"]), name=row["name"]) for row in rows]  # listed as they are, newer ones too
    return sorted(found, key=lambda m: m["name"])


class MilvusWriter:
    """The build side: changed files' rows upserted, removed files' rows deleted, then published."""

    keeps_token_states = False

    def __init__(self, uri: str, collection: str, mode: str | None = None):
        """`mode`: "dense" builds a dense-only collection, "hybrid" insists on both legs, None
        gives both where the server has BM25 and keeps what an update finds."""
        self.uri = uri
        self.collection = collection
        self.names = _names(collection)
        self.location = f"{uri} collection {collection}"
        self.mode = mode
        self._version: str | None = None

    def _server_version(self) -> str:
        """The server's version, asked once per build (the lock and the write both need it)."""
        if self._version is None:
            self._version = server_version(self.client)
        return self._version

    def _modes(self, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The modes a new collection gets on a server of this version, and what to tell the user."""
        if self.mode == "dense":
            return ("dense",), ()
        if has_bm25(version):
            return MODES, ()
        why = f"Milvus {version} at {self.uri} has no BM25, which hybrid and lexical search need (Milvus {LEXICAL_SINCE_TEXT} or newer)"
        if self.mode == "hybrid":
            raise BadInputError(f"{why}: build with --mode dense")
        return ("dense",), (f"{why}: collection {self.collection} is dense-only",)

    def fits(self, previous: Manifest) -> bool:
        has_lexical = "lexical" in previous.modes
        return self.mode is None or has_lexical == (self.mode == "hybrid")

    @property
    def client(self):
        return _client(self.uri)

    def lock(self):
        # Milvus has no lock a build could hold: one `qa index` per collection at a time is the deployer's to keep.
        if self.mode == "hybrid":  # refused before any embedding on a server without BM25
            with _milvus_errors(self.uri):
                self._modes(self._server_version())
        return _milvus_errors(self.uri)

    def exists(self) -> bool:
        if _no_lite_file(self.uri):
            return False
        with _milvus_errors(self.uri):
            return _meta_row(self.client, self.collection) is not None

    def previous_manifest(self) -> Manifest | None:
        """The published manifest; IndexVersionError for another qa's (only a --rebuild writes over it)."""
        with _milvus_errors(self.uri):
            return _read_meta(self.client, self.collection, self.location)

    def previous_documents(self) -> dict[str, Document]:
        return {}  # extracted text is not read back from Milvus: files are parsed again

    def needs(self, files: list[dict]) -> set[str]:
        with _milvus_errors(self.uri):
            manifest = _read_meta(self.client, self.collection, self.location)
            _load(self.client, *self.names.values())
            rows = _query_all(self.client, self.names["files"], f"gen <= {manifest.generation}", ["path", "digest"])
        stored = {row["path"]: row["digest"] for row in rows}
        return {f["path"] for f in files if stored.get(f["path"]) != f["digest"]}

    def cached_tokens(self, keys: list[str]) -> dict:
        return {}  # token states are not kept in Milvus: questions align by running the encoder

    def cached_vectors(self, spec: str, engine: str | None, keys: list[str]) -> dict[str, np.ndarray]:
        manifest = self.previous_manifest()
        cached: dict[str, np.ndarray] = {}
        with _milvus_errors(self.uri):
            for chunk in _chunks(sorted(set(keys))):
                expr = f"gen <= {manifest.generation} and {_in('key', chunk)}"
                for row in _query_all(self.client, self.names["sentences"], expr, ["key", "vector"]):
                    cached[row["key"]] = np.asarray(row["vector"], dtype=np.float32)
        return cached

    def write(self, contents: Contents, rewrite: bool):

        with _milvus_errors(self.uri):
            client = self.client
            version = self._server_version()
            try:
                previous = _read_meta(client, self.collection, self.location)
            except (IndexVersionError, IndexDamagedError):
                if not rewrite:  # another qa's collection is not updated, only rebuilt
                    raise
                previous = None
            if previous is not None and not rewrite:
                modes = previous.modes
                notes = () if "lexical" in modes or self.mode == "dense" else (f"collection {self.collection} is dense-only: rebuild it (--rebuild) on Milvus {LEXICAL_SINCE_TEXT} or newer for hybrid search",)
            else:
                modes, notes = self._modes(version)
            dim, with_lexical = contents.manifest.dim, "lexical" in modes
            if previous is None or previous.dim != dim or previous.modes != modes:
                self._create(dim, with_lexical)
                previous = None
            else:
                # A rebuild into collections of the same shape is an update of every file: readers
                # keep the published generation until it publishes, as with any update.
                _load(client, *self.names.values())
            generation = (previous.generation if previous else 0) + 1
            for name in self.names.values():  # rows of a build that died before publishing
                client.delete(name, filter=f"gen >= {generation}")
            pids = self._insert(contents, generation, previous, with_lexical)
            for name in self.names.values():
                # Sealed, indexed segments: rows left growing are searched by brute force (15x slower at 3k passages).
                client.flush(name)
            changed = sorted({d.path for d in contents.documents})
            listed = {f["path"] for f in contents.manifest.files}
            replaced = [f"gen < {generation} and {_in('path', chunk)}" for chunk in _chunks(changed + sorted(set(self._stored_paths(previous)) - listed))]
            # Counted before the deletes: readers of the published generation miss the replaced
            # files from the first delete to the publish, which is kept to a moment.
            removed = sum(self._count(self.names["sentences"], expr) for expr in replaced)
            passages = self._count(self.names["passages"], f"gen <= {generation}") - sum(self._count(self.names["passages"], expr) for expr in replaced)
            units = self._count(self.names["sentences"], f"gen <= {generation}") - removed
            for expr in replaced:
                for name in self.names.values():
                    client.delete(name, filter=expr)
            manifest = replace(
                contents.manifest, generation=generation, passage_count=passages, unit_count=units, index_type="milvus", file_count=len(listed),
                next_pid=pids["pid"], next_sid=pids["sid"], next_did=pids["did"], modes=modes, milvus_version=version,
                published_at=time.time(), format_version=FORMAT_VERSION,
            ).to_dict()
            del manifest["files"]  # kept in the files collection, a row per file
            client.upsert(META, [{"name": self.collection, "manifest": json.dumps(manifest, ensure_ascii=False), "dummy": [0.0, 0.0]}])
        return Written(passages=passages, units=units, removed=removed if not rewrite else 0, index_type="milvus", notes=notes)

    def _stored_paths(self, previous: Manifest | None) -> list[str]:
        if previous is None:
            return []
        rows = _query_all(self.client, self.names["files"], f"gen <= {previous.generation}", ["path"])
        return [row["path"] for row in rows]

    def _count(self, name: str, expr: str) -> int:
        return int(self.client.query(name, filter=expr, output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"])

    def _insert(self, contents: Contents, generation: int, previous: Manifest | None, with_lexical: bool) -> dict[str, int]:
        next_pid, next_sid, next_did = (previous.next_pid or 0, previous.next_sid or 0, previous.next_did or 0) if previous else (0, 0, 0)
        formats = {f["path"]: f["format"] for f in contents.manifest.files}
        dummy = {} if with_lexical else {"dummy": [0.0, 0.0]}  # the BM25 function fills a hybrid collection's vector
        rows = [
            {"pid": next_pid + n, "gen": generation, "passage_id": p.id, "path": p.doc_path, "format": formats.get(p.doc_path, "text"),
             "data": json.dumps(p.to_dict(), ensure_ascii=False), "form": form, **dummy}
            for n, (p, form) in enumerate(zip(contents.passages, contents.passage_forms))
        ]
        self._insert_rows(self.names["passages"], rows)
        rows = [
            {"sid": next_sid + i, "gen": generation, "pid": next_pid + int(number), "path": contents.passages[int(number)].doc_path,
             "start": int(start), "end": int(end), "form": form, "key": key, "vector": vector.tolist()}
            for i, ((number, start, end), form, key, vector) in enumerate(zip(contents.units, contents.unit_forms, contents.unit_keys, contents.vectors))
        ]
        self._insert_rows(self.names["sentences"], rows)
        rows = []
        for document in contents.documents:
            text = json.dumps(asdict(document), ensure_ascii=False)
            for part, start in enumerate(range(0, max(len(text), 1), PART_CHARS)):
                rows.append({"did": next_did + len(rows), "gen": generation, "path": document.path, "part": part, "text": text[start : start + PART_CHARS], "dummy": [0.0, 0.0]})
        self._insert_rows(self.names["documents"], rows)
        files = [f for f in contents.manifest.files if f["path"] in {d.path for d in contents.documents}]
        # A file's row is keyed by its path: the upsert replaces the previous generation's.
        self._insert_rows(
            self.names["files"],
            [{"path": f["path"], "gen": generation, "digest": f["digest"], "entry": json.dumps(f, ensure_ascii=False), "dummy": [0.0, 0.0]} for f in files],
            upsert=True,
        )
        return {"pid": next_pid + len(contents.passages), "sid": next_sid + len(contents.units), "did": next_did + len(rows)}

    def _insert_rows(self, name: str, rows: list[dict], upsert: bool = False) -> None:
        for chunk in _chunks(rows):
            (self.client.upsert if upsert else self.client.insert)(name, chunk)

    def _create(self, dim: int, with_lexical: bool) -> None:
        """(Re)create the collection's Milvus collections, empty; qa_meta if there is none.

        Their reads are Strong: a Milvus server's default (Bounded) lets a read miss what was
        written a moment before, so an update would not find the files it wrote, nor a reader
        the generation just published. Milvus Lite is always Strong."""
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        client = self.client
        if client.has_collection(META):
            client.delete(META, filter=f'name == "{self.collection}"')
        for name in self.names.values():
            if client.has_collection(name):
                client.drop_collection(name)

        def create(name: str, primary: tuple[str, object], fields: list[tuple], vector: tuple[str, str, str, dict], functions=()) -> None:
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field(primary[0], primary[1], is_primary=True, **({"max_length": 4096} if primary[1] == DataType.VARCHAR else {}))
            for field in fields:
                schema.add_field(*field[:2], **(field[2] if len(field) > 2 else {}))
            for function in functions:
                schema.add_function(function)
            index = client.prepare_index_params()
            index.add_index(field_name=vector[0], index_type=vector[1], metric_type=vector[2], params=vector[3])
            client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
            _loaded.discard((id(client), name))
            _load(client, name)

        text = {"max_length": 65535}
        path = ("path", DataType.VARCHAR, {"max_length": 4096})
        dummy = ("dummy", DataType.FLOAT_VECTOR, {"dim": 2})
        analyzer = {"tokenizer": "jieba", "filter": [{"type": "stop", "stop_words": sorted(STOP_WORDS) + PUNCTUATION}]}
        passage_fields = [("gen", DataType.INT64), ("passage_id", DataType.VARCHAR, {"max_length": 256}), path, ("format", DataType.VARCHAR, {"max_length": 32}), ("data", DataType.VARCHAR, text)]
        if with_lexical:
            create(
                self.names["passages"], ("pid", DataType.INT64),
                passage_fields + [("form", DataType.VARCHAR, dict(text, enable_analyzer=True, analyzer_params=analyzer)), ("sparse", DataType.SPARSE_FLOAT_VECTOR)],
                ("sparse", "SPARSE_INVERTED_INDEX", "BM25", {"bm25_k1": K1, "bm25_b": B}),
                [Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["form"], output_field_names=["sparse"])],
            )
        else:  # a collection needs a vector field: a dense-only one's passages get a dummy
            create(self.names["passages"], ("pid", DataType.INT64), passage_fields + [("form", DataType.VARCHAR, text), dummy], ("dummy", "FLAT", "IP", {}))
        create(
            self.names["sentences"], ("sid", DataType.INT64),
            [("gen", DataType.INT64), ("pid", DataType.INT64), path, ("start", DataType.INT64), ("end", DataType.INT64),
             ("form", DataType.VARCHAR, text), ("key", DataType.VARCHAR, {"max_length": 40}), ("vector", DataType.FLOAT_VECTOR, {"dim": dim})],
            ("vector", "AUTOINDEX", "IP", {}),
        )
        create(self.names["documents"], ("did", DataType.INT64), [("gen", DataType.INT64), path, ("part", DataType.INT64), ("text", DataType.VARCHAR, text), dummy], ("dummy", "FLAT", "IP", {}))
        create(self.names["files"], ("path", DataType.VARCHAR), [("gen", DataType.INT64), ("digest", DataType.VARCHAR, {"max_length": 64}), ("entry", DataType.VARCHAR, text), dummy], ("dummy", "FLAT", "IP", {}))
        if not client.has_collection(META):
            create(META, ("name", DataType.VARCHAR), [("manifest", DataType.VARCHAR, text), dummy], ("dummy", "FLAT", "IP", {}))


class MilvusBackend:
    """Collections in one Milvus: a Milvus Lite file, a server or a cluster (qa.storage.store.Backend)."""

    def __init__(self, index_dir: Path, uri: str):
        self.uri = uri

    def open_store(self, collection: str) -> MilvusStore:
        return open_milvus(self.uri, collection)

    def open_writer(self, collection: str, mode: str | None) -> MilvusWriter:
        return MilvusWriter(self.uri, collection, mode)

    def published_generation(self, collection: str) -> str | None:
        return milvus_generation(self.uri, collection)

    def list_collections(self) -> list[dict]:
        return milvus_collections(self.uri)
