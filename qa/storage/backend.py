"""The seam between qa and where an index lives: `--backend` parsed, and a Store (to search)
or a Writer (to build) opened on `local` (generation directories, FAISS and BM25) or `milvus`
(Milvus Lite, a Milvus server or cluster). What a Store and a Writer are is qa.storage.store's.

Backends are named by `--backend` (QA_BACKEND): `local`, `milvus:PATH.db`, `milvus://HOST:PORT`,
or an http(s):// URI of a Milvus server (token from QA_MILVUS_TOKEN).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInputError
from .records import check_collection_name

if TYPE_CHECKING:
    from .store import Backend, Store, Writer

# The backends `--backend` names (parse_backend says which spec is whose): each one class, in
# a module of its own, that qa.storage.store.Backend describes. A new backend adds a line here.
BACKENDS = {
    "local": ".local:LocalBackend",
    "milvus": ".milvus:MilvusBackend",
}


@dataclass(frozen=True)
class BackendSpec:
    kind: str  # a key of BACKENDS
    uri: str = ""  # Milvus: a .db path (Milvus Lite) or a server URI


def parse_backend(spec: str | None) -> BackendSpec:
    """`local` (default), `milvus:PATH.db`, `milvus://HOST:PORT`, or an http(s):// Milvus URI."""
    spec = (spec or "local").strip()
    if spec == "local":
        return BackendSpec("local")
    if spec.startswith("milvus://"):
        return BackendSpec("milvus", "http://" + spec[len("milvus://") :])
    if spec.startswith(("http://", "https://")):
        return BackendSpec("milvus", spec)
    if spec.startswith("milvus:") and spec.endswith(".db") and len(spec) > len("milvus:.db"):
        return BackendSpec("milvus", str(Path(spec[len("milvus:") :]).expanduser().resolve()))
    raise BadInputError(f"unknown backend {spec!r}: use local, milvus:PATH.db, milvus://HOST:PORT or an http(s):// Milvus URI")


def backend_at(index_dir: Path | str | None, backend: str | None = None) -> "Backend":
    """The backend asked for (else QA_BACKEND's, else local), opened on its folder or URI."""
    chosen = parse_backend(backend if backend is not None else os.environ.get("QA_BACKEND"))
    module, _, name = BACKENDS[chosen.kind].partition(":")
    return getattr(importlib.import_module(module, __package__), name)(Path(index_dir or "embeddings"), chosen.uri)


def open_store(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None) -> "Store":
    return backend_at(index_dir, backend).open_store(check_collection_name(collection))


def open_writer(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None, mode: str | None = None) -> "Writer":
    """`mode`: "dense" for a dense-only collection, "hybrid" to insist on both legs; None for
    both where the backend can."""
    if mode not in (None, "hybrid", "dense"):
        raise BadInputError(f"a collection is built for hybrid search (both legs) or dense search only, not {mode!r}")
    return backend_at(index_dir, backend).open_writer(check_collection_name(collection), mode)


def has_index(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None) -> bool:
    """Whether there is an index to open (maybe a damaged one, which opening then reports)."""
    return open_writer(index_dir, backend, collection).exists()


def published_generation(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None) -> str | None:
    """The name of the collection's published generation (the `generation` of the store it opens),
    None when there is none: cheap enough for a long-running process to ask before each question."""
    return backend_at(index_dir, backend).published_generation(check_collection_name(collection))


def list_collections(index_dir: Path | str | None, backend: str | None = None) -> list[dict]:
    """Each collection's manifest (name added), in name order."""
    return sorted(backend_at(index_dir, backend).list_collections(), key=lambda m: m["name"])
