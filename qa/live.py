"""The live index of a long-running process (`qa serve`, `qa mcp`): a rebuild is picked up
without a restart.

Each call to `current()` asks which generation is published (locally the CURRENT pointer, one
tiny file; on Milvus the collection's row in qa_meta) and, when a build has published a new
one, loads it and swaps it in. A caller keeps the Index it was handed,
so a search that started on the old generation finishes on it (a build keeps the previous
generation's files for exactly that). While one caller loads a new generation the others go
on with the old one. A new generation that cannot be loaded is reported by `status()` and the
old one keeps serving.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from .embedding.embedders import Embedder
from .errors import BadInputError, IndexMissingError, ModelMismatchError, NotFoundError, QAError
from .models import MODES
from .search import Index, SearchRequest, SearchResult, load_index
from .storage.backend import list_collections, published_generation
from .storage.records import check_collection_name

MAX_COLLECTIONS = 32  # collections a long-running process keeps open at once


@dataclass(frozen=True)
class LiveStatus:
    generation: str | None  # the generation being served
    reload_error: str | None  # why the newest generation is not being served, if it is not


class LiveIndex:
    def __init__(self, index_dir: Path | str | None, model: str | None = None, embedder: Embedder | None = None, backend: str | None = None, collection: str | None = None):
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.backend = backend
        self.collection = collection
        self._model = model
        self._embedder = embedder
        self._index: Index | None = None
        self._failed: tuple[str, QAError] | None = None  # a generation that would not load, and why
        self._loading = threading.Lock()

    def current(self) -> Index:
        """The newest loadable generation; IndexMissingError when there is none."""
        try:
            generation = published_generation(self.index_dir, self.backend, self.collection)
        except QAError as exc:  # e.g. a CURRENT pointer written over with garbage
            if self._index is None:
                raise
            self._failed = ("(unreadable pointer)", exc)
            return self._index
        if generation is None:
            self._open()  # raises the backend's own IndexMissingError, unless a build just published
            generation = published_generation(self.index_dir, self.backend, self.collection)
            if generation is None:
                raise IndexMissingError("the index vanished while it was being opened")
        index = self._index
        if index is not None and index.generation == generation:
            self._failed = None  # whatever failed since is no longer what is published
            return index
        if self._failed and self._failed[0] == generation:
            if index is None:
                raise self._failed[1]
            return index
        # Only one caller loads; the others keep using the old generation meanwhile
        # (or, when there is none yet, wait for it).
        if not self._loading.acquire(blocking=index is None):
            return index
        try:
            return self._load(generation)
        finally:
            self._loading.release()

    def status(self) -> LiveStatus:
        index = self._index
        return LiveStatus(generation=index.generation if index else None, reload_error=str(self._failed[1]) if self._failed else None)

    def _load(self, name: str) -> Index:
        if self._index is not None and self._index.generation == name:
            return self._index  # another caller loaded it while this one waited
        try:
            index = self._open()
            warm_up(index)
        except QAError as exc:
            self._failed = (name, exc)
            if self._index is None:
                raise
            return self._index
        self._index, self._failed = index, None
        return index

    def _open(self) -> Index:
        # A rebuild with the same model reuses the loaded model (and aligner) instead of loading it again.
        embedder = self._embedder or (self._index.embedder if self._index is not None else None)
        location = {"backend": self.backend, "collection": self.collection}
        if embedder is None:
            return load_index(self.index_dir, model=self._model, **location)
        aligner = self._index.aligner if self._index is not None else None
        try:
            return load_index(self.index_dir, model=self._model, embedder=embedder, aligner=aligner, **location)
        except ModelMismatchError:
            if self._embedder is not None or self._model is not None:
                raise
            return load_index(self.index_dir, **location)  # rebuilt with another model: load that one


class LiveCollections:
    """The collections a long-running process serves: the one it was started with, and any
    other of the same index folder or Milvus that a request names, opened on first use and
    then kept live. The default model is loaded once for all of them (qa.embedding.embedders.e5_engine)."""

    def __init__(self, first: LiveIndex):
        self.first = first
        self.default = check_collection_name(first.collection)
        self._live = {self.default: first}
        self._lock = threading.Lock()

    def live(self, collection: str | None = None) -> LiveIndex:
        name = check_collection_name(collection or self.default)  # a bad name: BadInputError
        with self._lock:
            found = self._live.get(name)
        if found is not None:
            return found
        live = LiveIndex(self.first.index_dir, model=self.first._model, embedder=self.first._embedder, backend=self.first.backend, collection=name)
        try:
            live.current()  # a collection that is not there is not kept
        except IndexMissingError:
            raise NotFoundError(f"no collection {name!r}", collection=name) from None
        with self._lock:
            if name not in self._live and len(self._live) >= MAX_COLLECTIONS:
                raise BadInputError(f"this server keeps at most {MAX_COLLECTIONS} collections open")
            return self._live.setdefault(name, live)

    def current(self, collection: str | None = None) -> Index:
        return self.live(collection).current()

    def ask(self, request: SearchRequest) -> SearchResult:
        """The request asked of the collection it names (the first one's by default)."""
        return self.current(request.collection).ask(request)

    def listing(self) -> dict:
        """The collections there are and which is the default: what GET /api/collections and the
        MCP list_collections tool answer."""
        keys = ("corpus_dir", "model", "file_count", "passage_count", "built_at", "problem")
        found = list_collections(self.first.index_dir, self.first.backend)
        return {
            "default": self.default,
            "collections": [{"name": c["name"], **{key: c[key] for key in keys if key in c}, "modes": list(c.get("modes", MODES))} for c in found],
        }


def warm_up(index: Index) -> None:
    """Load the lazy parts now, so damage shows before the generation is swapped in, and
    the first search after a swap is not slow."""
    index.store.check()
    index.embedder  # noqa: B018
    index.aligner  # noqa: B018

