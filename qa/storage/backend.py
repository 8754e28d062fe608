"""The seam between qa and where an index lives: `--backend` parsed, and a Store (to search)
or a Writer (to build) opened on `local` (generation directories, FAISS and BM25) or `milvus`
(Milvus Lite, a Milvus server or cluster). What a Store and a Writer are is qa.storage.store's.

Backends are named by `--backend` (QA_BACKEND): `local`, `milvus:PATH.db`, `milvus://HOST:PORT`,
or an http(s):// URI of a Milvus server (token from QA_MILVUS_TOKEN).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import BadInputError, IndexMissingError
from .records import DEFAULT_COLLECTION

if TYPE_CHECKING:
    from .store import Store, Writer

COLLECTIONS_DIR = "collections"  # a local index folder's named collections live under it
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")  # what Milvus accepts in a collection name, too


@dataclass(frozen=True)
class Backend:
    kind: str  # "local" or "milvus"
    uri: str = ""  # Milvus: a .db path (Milvus Lite) or a server URI


def parse_backend(spec: str | None) -> Backend:
    """`local` (default), `milvus:PATH.db`, `milvus://HOST:PORT`, or an http(s):// Milvus URI."""
    spec = (spec or "local").strip()
    if spec == "local":
        return Backend("local")
    if spec.startswith("milvus://"):
        return Backend("milvus", "http://" + spec[len("milvus://") :])
    if spec.startswith(("http://", "https://")):
        return Backend("milvus", spec)
    if spec.startswith("milvus:") and spec.endswith(".db") and len(spec) > len("milvus:.db"):
        return Backend("milvus", str(Path(spec[len("milvus:") :]).expanduser().resolve()))
    raise BadInputError(f"unknown backend {spec!r}: use local, milvus:PATH.db, milvus://HOST:PORT or an http(s):// Milvus URI")


def _chosen(backend: str | None) -> Backend:
    """The backend asked for, else QA_BACKEND's, else local."""
    return parse_backend(backend if backend is not None else os.environ.get("QA_BACKEND"))


def check_collection_name(name: str | None) -> str:
    name = name or DEFAULT_COLLECTION
    if not _NAME.fullmatch(name):
        raise BadInputError(f"bad collection name {name!r}: letters, digits and _, starting with a letter (at most 48)")
    return name


def local_collection_dir(index_dir: Path | str, collection: str | None) -> Path:
    """The default collection is the index folder itself (as before collections); others live under it."""
    name = check_collection_name(collection)
    index_dir = Path(index_dir)
    return index_dir if name == DEFAULT_COLLECTION else index_dir / COLLECTIONS_DIR / name


def open_store(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None) -> Store:
    chosen = _chosen(backend)
    if chosen.kind == "milvus":
        from .milvus import open_milvus

        return open_milvus(chosen.uri, check_collection_name(collection))
    from .local import open_generation

    index_dir = Path(index_dir or "embeddings")
    folder = local_collection_dir(index_dir, collection)
    if folder != index_dir and not folder.exists():
        raise IndexMissingError(f"no collection {collection!r} in {index_dir.resolve()}", collection=collection)
    return open_generation(folder)


def open_writer(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None, mode: str | None = None) -> Writer:
    """`mode`: "dense" for a dense-only Milvus collection, "hybrid" to insist on both legs; None
    for both where the server can (a local index always has both)."""
    if mode not in (None, "hybrid", "dense"):
        raise BadInputError(f"a collection is built for hybrid search (both legs) or dense search only, not {mode!r}")
    chosen = _chosen(backend)
    if chosen.kind == "milvus":
        from .milvus import MilvusWriter

        return MilvusWriter(chosen.uri, check_collection_name(collection), mode)
    if mode == "dense":
        raise BadInputError("a local index always holds both legs: a dense-only collection is for --backend milvus")
    from .generation import LocalWriter

    return LocalWriter(local_collection_dir(index_dir or "embeddings", collection))


def has_index(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None) -> bool:
    """Whether there is an index to open (maybe a damaged one, which opening then reports)."""
    return open_writer(index_dir, backend, collection).exists()


def published_generation(index_dir: Path | str | None, backend: str | None = None, collection: str | None = None) -> str | None:
    """The name of the collection's published generation (the `generation` of the store it opens),
    None when there is none: cheap enough for a long-running process to ask before each question."""
    chosen = _chosen(backend)
    if chosen.kind == "milvus":
        from .milvus import milvus_generation

        return milvus_generation(chosen.uri, check_collection_name(collection))
    from .index_dir import current_generation

    found = current_generation(local_collection_dir(index_dir or "embeddings", collection))
    return found.name if found is not None else None


def list_collections(index_dir: Path | str | None, backend: str | None = None) -> list[dict]:
    """Each collection's manifest (name added), in name order."""
    chosen = _chosen(backend)
    if chosen.kind == "milvus":
        from .milvus import milvus_collections

        return milvus_collections(chosen.uri)
    from .generation import live_manifest
    from .index_dir import CURRENT

    index_dir = Path(index_dir or "embeddings")
    folders = [(DEFAULT_COLLECTION, index_dir)] + [(f.name, f) for f in sorted((index_dir / COLLECTIONS_DIR).glob("*")) if _NAME.fullmatch(f.name)]
    found = []
    for name, folder in folders:
        manifest = live_manifest(folder)
        if manifest is not None:
            found.append(dict(manifest.to_dict(), name=name, file_count=len(manifest.files)))
        elif (folder / CURRENT).exists():  # listed, not passed over: opening it says what is wrong
            found.append({"name": name, "problem": UNREADABLE})
    return sorted(found, key=lambda m: m["name"])


UNREADABLE = "unreadable: damaged, or written by another version of qa"
