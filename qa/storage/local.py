"""The local backend: one opened generation directory (see qa.storage.generation) and its two legs.

Passage numbers are positions in passages.jsonl; sentences are stored in passage order, so
passage p owns sentence rows unit_ptr[p]:unit_ptr[p+1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BadInputError, IndexMissingError
from ..models import MODES, Document, Passage, Sentences
from .bm25 import query_groups
from .generation import LocalWriter, damaged, live_manifest, open_faiss, open_lexical, open_token_table, read_documents, read_forms, read_generation
from .index_dir import CURRENT, current_generation
from .manifest import Manifest
from .records import DEFAULT_COLLECTION, LexicalFound, is_collection_name


class _Leg:
    """A leg over one index file, which opens (and is checked) on first use."""

    def __init__(self, store: "LocalStore", index=None):
        # What the leg reads, not the store itself: a store and its legs in a cycle would outlive
        # a rebuild until the garbage collector's next full pass, keeping old files mapped.
        self._generation_dir = store.generation_dir
        self._manifest = store.manifest
        self._passage_count = len(store.passages)
        self._units = store.units
        self._unit_ptr = store.unit_ptr
        self._vectors = store.vectors
        self._index = index

    @property
    def index(self):
        if self._index is None:
            self._index = self._open()
        return self._index

    def _open(self):
        raise NotImplementedError


class FaissDenseLeg(_Leg):
    """Sentence vectors in FAISS; a passage scores as its best sentence."""

    def _open(self):
        return open_faiss(self._generation_dir, len(self._units))

    def search(self, query_vector: np.ndarray, pool: int, allowed: np.ndarray | None = None) -> list[int]:
        """Passages of the top `pool * 4` sentences, best first; `allowed` masks passages before ranking."""
        from .dense import search_faiss, search_flat

        units = self._units
        # Several sentences of one passage may rank high: ask for more sentences than passages.
        selected = None if allowed is None else np.flatnonzero(allowed[units[:, 0]])
        if self._manifest.index_type == "flat":
            unit_ids, _ = search_flat(self._vectors, query_vector, pool * 4, selected)
        else:
            unit_ids, _ = search_faiss(self.index, query_vector, pool * 4, selected)
        return list(dict.fromkeys(int(p) for p in units[unit_ids, 0]))

    def similarities(self, passages: list[int], query_vector: np.ndarray) -> np.ndarray:
        """Each passage scores as its best sentence: one strong sentence is what answers."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        unit_ptr = self._unit_ptr
        starts, ends = unit_ptr[passages], unit_ptr[np.asarray(passages) + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
        similarities = self._vectors[rows] @ query_vector
        offsets = np.concatenate([[0], np.cumsum(ends - starts)[:-1]])
        return np.maximum.reduceat(similarities, offsets).astype(np.float32)


class BM25LexicalLeg(_Leg):
    """qa.storage.lexical's jieba BM25 over the passages' normalized text."""

    def _open(self):
        return open_lexical(self._generation_dir, self._passage_count)

    def search(self, question: str, pool: int, allowed: np.ndarray | None = None, translations: list[list[str]] | None = None) -> LexicalFound:
        groups = query_groups(self.index.query_tokens(question), translations)
        if translations is not None:
            scores, ceiling = self.index.group_scores_and_ceiling(groups)
        else:
            scores, ceiling = self.index.scores_and_ceiling(question)
        if allowed is not None:
            scores = np.where(allowed, scores, 0).astype(np.float32)
        top = np.argpartition(-scores, min(pool, len(scores) - 1))[:pool]
        return LexicalFound([int(p) for p in top if scores[p] > 0], lambda passages: scores[passages], ceiling, self.index.coverage(groups))


class LocalStore:
    """An opened generation: passages, sentences and documents, and the dense and lexical legs."""

    def __init__(self, generation_dir: Path, manifest: Manifest, passages: list[Passage], units: np.ndarray, vectors: np.ndarray):
        self.generation_dir = generation_dir
        self.generation = generation_dir.name
        self.location = generation_dir.parent
        self.manifest = manifest
        self.passages = passages
        self.units = units
        self.vectors = vectors
        self.unit_ptr = np.searchsorted(units[:, 0], np.arange(len(passages) + 1))
        self.dense = FaissDenseLeg(self)
        self.lexical = BM25LexicalLeg(self)
        self.modes = MODES
        self._forms: dict[str, list[str]] | None = None
        self._by_id: dict[str, int] | None = None
        self._by_document: dict[str, list[int]] | None = None
        self._documents: dict[str, Document] | None = None
        self._masks: dict[frozenset[str], np.ndarray] = {}
        self._tokens = None

    @classmethod
    def in_memory(cls, manifest: Manifest, passages: list[Passage], units: np.ndarray, vectors: np.ndarray, forms: dict[str, list[str]], dense_index, lexical_index) -> "LocalStore":
        """A store over arrays already in memory, with its FAISS and BM25 indexes (benchmarks/scale.py)."""
        store = cls(Path("(memory)") / "gen-memory", manifest, passages, units, vectors)
        store._forms = forms
        store.dense = FaissDenseLeg(store, dense_index)
        store.lexical = BM25LexicalLeg(store, lexical_index)
        return store

    @property
    def forms(self) -> dict[str, list[str]]:
        """Normalized texts of passages and sentences, written at index time."""
        if self._forms is None:
            self._forms = read_forms(self.generation_dir, len(self.passages), len(self.units))
        return self._forms

    def files(self) -> list[dict]:
        return self.manifest.files

    def allowed(self, doc_paths: frozenset[str] | None) -> np.ndarray | None:
        """A mask over passage numbers: those of the given documents (None: all)."""
        if doc_paths is None:
            return None
        masks = self._masks  # one lookup table per call: another thread may replace it meanwhile
        if doc_paths not in masks:
            masks = {doc_paths: np.fromiter((p.doc_path in doc_paths for p in self.passages), dtype=bool, count=len(self.passages))}
            self._masks = masks
        return masks[doc_paths]

    def fetch(self, numbers: list[int], with_sentences: bool = False) -> None:
        """Everything is at hand locally; a remote store loads these passages (and their
        sentences) in one round trip."""

    def passage(self, p: int) -> Passage | None:
        return self.passages[p] if 0 <= p < len(self.passages) else None

    def form(self, p: int) -> str:
        return self.forms["passages"][p]

    def sentences(self, p: int) -> Sentences:
        """Passage p's sentences, with the vector of the sentence stored before them (None for the
        first passage): qa.search keeps it only where p's paragraph goes on from there."""
        start, end = self.unit_ptr[p], self.unit_ptr[p + 1]
        return Sentences(
            spans=[(int(a), int(b)) for _, a, b in self.units[start:end]],
            forms=self.forms["units"][start:end],
            vectors=np.asarray(self.vectors[start:end]),
            previous_vector=np.asarray(self.vectors[start - 1]) if start > 0 else None,
        )

    def passage_tokens(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Passage p's tokens as the build kept them (ids, unit vectors, sentence of each), or
        None where it kept none (qa.storage.token_states)."""
        if not self.manifest.token_states:
            return None
        if self._tokens is None:
            self._tokens = open_token_table(self.generation_dir, len(self.units), self.manifest.dim)
        return self._tokens.sentences(int(self.unit_ptr[p]), int(self.unit_ptr[p + 1]))

    def number_of(self, passage_id: str) -> int | None:
        if self._by_id is None:
            self._by_id = {p.id: n for n, p in enumerate(self.passages)}
        return self._by_id.get(passage_id)

    def document_numbers(self, doc_path: str) -> list[int] | None:
        if self._by_document is None:
            by_document: dict[str, list[int]] = {}
            for n, p in enumerate(self.passages):
                by_document.setdefault(p.doc_path, []).append(n)
            # Published whole: a server thread that came first must not see it half-built.
            self._by_document = by_document
        return self._by_document.get(doc_path)

    def document(self, doc_path: str) -> Document:
        if self._documents is None:
            self._documents = read_documents(self.generation_dir)
        if doc_path not in self._documents:
            raise damaged(self.generation_dir, f"documents.jsonl lacks {doc_path}")
        return self._documents[doc_path]

    def all_passages(self) -> list[Passage]:
        return self.passages

    def check(self) -> None:
        """Load the lazy parts now, so damage shows before the store is used."""
        self.forms, self.dense.index, self.lexical.index  # noqa: B018 - the properties load and check the files


def open_generation(index_dir: Path) -> LocalStore:
    """The live generation of index_dir, checked; the heavy parts load on first use."""
    return LocalStore(*read_generation(index_dir))


COLLECTIONS_DIR = "collections"  # a local index folder's named collections live under it
UNREADABLE = "unreadable: damaged, or written by another version of qa"


class LocalBackend:
    """Collections in a local index folder: the default one is the folder itself (as before
    there were collections), the others live under its collections/ (qa.storage.store.Backend)."""

    def __init__(self, index_dir: Path, uri: str = ""):
        self.index_dir = Path(index_dir)

    def folder(self, collection: str) -> Path:
        return self.index_dir if collection == DEFAULT_COLLECTION else self.index_dir / COLLECTIONS_DIR / collection

    def open_store(self, collection: str) -> LocalStore:
        folder = self.folder(collection)
        if folder != self.index_dir and not folder.exists():
            raise IndexMissingError(f"no collection {collection!r} in {self.index_dir.resolve()}", collection=collection)
        return open_generation(folder)

    def open_writer(self, collection: str, mode: str | None) -> LocalWriter:
        if mode == "dense":
            raise BadInputError("a local index always holds both legs: a dense-only collection is for --backend milvus")
        return LocalWriter(self.folder(collection))

    def published_generation(self, collection: str) -> str | None:
        found = current_generation(self.folder(collection))
        return found.name if found is not None else None

    def list_collections(self) -> list[dict]:
        named = [(f.name, f) for f in sorted((self.index_dir / COLLECTIONS_DIR).glob("*")) if is_collection_name(f.name)]
        found = []
        for name, folder in [(DEFAULT_COLLECTION, self.index_dir), *named]:
            manifest = live_manifest(folder)
            if manifest is not None:
                found.append(dict(manifest.to_dict(), name=name, file_count=len(manifest.files)))
            elif (folder / CURRENT).exists():  # listed, not passed over: opening it says what is wrong
                found.append({"name": name, "problem": UNREADABLE})
        return found
