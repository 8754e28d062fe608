"""What a backend gives qa: a Store to search and a Writer to build. The local backend
(qa.storage.local, qa.storage.generation) and Milvus (qa.storage.milvus) each implement both
without importing the other; qa.storage.backend opens the one `--backend` names.

- A Store (read side): passages, sentences and documents by passage number, the indexed
  files, and two legs: `dense.search(query_vector, pool, allowed)` (passages of the best
  sentences) with `dense.similarities(passages, query_vector)` (best sentence per passage),
  and `lexical.search(question, pool, allowed, translations)` (BM25: top passages, any
  passage's score, the ceiling; an English question over Chinese text matches its words'
  `translations`, which the search works out: qa.retrieve.crosslingual).
- A Writer (build side): the previous manifest and documents, which files it needs written
  (`local` rewrites a whole generation; `milvus` upserts only changed files and deletes removed
  ones), cached vectors, and `write`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from ..models import Document, Passage, Sentences
    from .manifest import Manifest
    from .records import Contents, Written
    from .token_states import SentenceTokens


class DenseLeg(Protocol):
    def search(self, query_vector: np.ndarray, pool: int, allowed: object) -> list[int]: ...
    def similarities(self, passages: list[int], query_vector: np.ndarray) -> np.ndarray: ...


class LexicalLeg(Protocol):
    def search(self, question: str, pool: int, allowed: object, translations: list[list[str]] | None = None): ...


class Store(Protocol):
    manifest: Manifest
    generation: str  # changes whenever a build publishes
    location: str  # for messages
    dense: DenseLeg
    lexical: LexicalLeg | None  # None in a dense-only collection
    modes: tuple[str, ...]  # the search modes it can answer (qa.models.MODES, or just "dense")

    def files(self) -> list[dict]: ...
    def allowed(self, doc_paths: frozenset[str] | None) -> object: ...
    def fetch(self, numbers: list[int], with_sentences: bool = False) -> None: ...
    def passage(self, p: int) -> "Passage | None": ...
    def form(self, p: int) -> str: ...
    def sentences(self, p: int) -> "Sentences": ...
    def passage_tokens(self, p: int) -> "tuple[np.ndarray, np.ndarray, np.ndarray] | None": ...
    def number_of(self, passage_id: str) -> int | None: ...
    def document_numbers(self, doc_path: str) -> list[int] | None: ...
    def document(self, doc_path: str) -> "Document": ...
    def all_passages(self) -> "list[Passage]": ...
    def check(self) -> None: ...


class Writer(Protocol):
    location: str
    keeps_token_states: bool  # whether it stores each sentence's token states (qa.storage.token_states)

    def lock(self): ...
    def exists(self) -> bool: ...
    def previous_manifest(self) -> Manifest | None: ...
    def previous_documents(self) -> "dict[str, Document]": ...
    def needs(self, files: list[dict]) -> set[str]: ...
    def cached_vectors(self, spec: str, engine: str | None, keys: list[str]) -> dict[str, np.ndarray]: ...
    def cached_tokens(self, keys: list[str]) -> "dict[str, SentenceTokens]": ...
    def fits(self, previous: Manifest) -> bool: ...  # whether the collection built before has the legs this build asks for
    def write(self, contents: "Contents", rewrite: bool) -> "Written": ...


class Backend(Protocol):
    """Where collections live, as `--backend` names it: a local index folder, or a Milvus. Each
    backend is one class in its own module, listed in qa.storage.backend.BACKENDS."""

    def __init__(self, index_dir: Path, uri: str) -> None: ...  # a local folder, or a Milvus URI
    def open_store(self, collection: str) -> Store: ...  # IndexMissingError when there is none
    def open_writer(self, collection: str, mode: str | None) -> Writer: ...
    def published_generation(self, collection: str) -> str | None: ...  # cheap: asked before each question
    def list_collections(self) -> list[dict]: ...  # each collection's manifest, with its name
