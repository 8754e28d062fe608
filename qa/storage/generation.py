"""The local index format: what one generation directory holds, written and opened here only.

    gen-…/  manifest.json     model, counts, corpus dir, files, format version
            passages.jsonl    the passages, in document order
            documents.jsonl   the text every citation points into (extracted text for PDF …)
            units.npy         sentence rows: (passage number, char_start, char_end), passage order
            vectors.npy       one L2-normalized vector per sentence
            unit_keys.npy     a hash of (model, sentence text) per sentence: the embedding cache
            forms.json        normalized texts of passages and sentences
            states/           each sentence's token states, when kept (qa.storage.token_states)
            dense.faiss       the dense leg (qa.storage.dense)
            lexical/          the lexical leg (qa.storage.lexical)

Directories, the CURRENT pointer and the build lock are qa.storage.index_dir's; the search over an opened
generation is qa.search's, through the LocalStore this module returns.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import IndexDamagedError, IndexMissingError, QAError
from ..models import Document, Passage
from .index_dir import build_lock, current_generation, new_staging_dir, pause_point, publish
from .manifest import Manifest, checked_manifest, manifest_problem, read_manifest
from .records import Contents, Written

if TYPE_CHECKING:
    from .token_states import SentenceTokens, TokenTable

FORMAT_VERSION = 2  # 2: documents.jsonl (the cited text), passage pages
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
DOCUMENTS = "documents.jsonl"
UNITS = "units.npy"
VECTORS = "vectors.npy"
UNIT_KEYS = "unit_keys.npy"
FORMS = "forms.json"
DENSE = "dense.faiss"
LEXICAL = "lexical"
STATES = "states"


def write_generation(index_dir: Path, contents: Contents) -> Path:
    """Write a whole generation and publish it atomically; call only while holding the build lock."""
    from .dense import build_faiss, save_faiss
    from .lexical import LexicalIndex

    staging = new_staging_dir(index_dir)
    try:
        with open(staging / PASSAGES, "w", encoding="utf-8") as handle:
            for passage in contents.passages:
                handle.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
        # Kept so nothing is re-parsed at query time and a citation still resolves if the file changes.
        _write_documents(staging, contents.documents)
        np.save(staging / UNITS, contents.units)
        np.save(staging / VECTORS, contents.vectors)
        pause_point("vectors")
        np.save(staging / UNIT_KEYS, np.array(contents.unit_keys, dtype="S40"))
        if contents.unit_tokens is not None:
            contents.unit_tokens.save(staging / STATES)
        # The normalized texts, so searches needn't normalize passages again.
        _write_json(staging / FORMS, {"passages": contents.passage_forms, "units": contents.unit_forms})
        save_faiss(build_faiss(contents.vectors, contents.manifest.index_type), staging / DENSE)
        LexicalIndex().index(contents.lexical_forms or contents.passage_forms, normalized=True).save(staging / LEXICAL)
        pause_point("lexical")
        _write_json(staging / MANIFEST, replace(contents.manifest, format_version=FORMAT_VERSION).to_dict())
        generation = publish(index_dir, staging)
        pause_point("published")
        return generation
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


class LocalWriter:
    """The build side of the local backend: a whole new generation per build."""

    keeps_token_states = True

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self.location = index_dir
        self._old_keys: set[str] = set()

    def lock(self):
        return build_lock(self.index_dir)

    def exists(self) -> bool:
        return current_generation(self.index_dir) is not None

    def previous_manifest(self) -> Manifest | None:
        return live_manifest(self.index_dir)

    def previous_documents(self) -> dict[str, Document]:
        """Extracted documents (PDF, DOCX …) by path, to reuse for unchanged files.

        Plain text is always read again: it costs nothing, and it is where edits within one
        modification-time tick happen.
        """
        return {d.path: d for d in live_documents(self.index_dir) if d.format not in ("text", "markdown")}

    def fits(self, previous: Manifest) -> bool:
        return True  # every local generation holds both legs

    def needs(self, files: list[dict]) -> set[str]:
        return {f["path"] for f in files}  # every generation is written whole

    def cached_vectors(self, spec: str, engine: str | None, keys: list[str]) -> dict[str, np.ndarray]:
        """Vectors of the live generation by unit key (the builder asks only when model and engine match)."""
        found = live_vectors(self.index_dir)
        if found is None:
            return {}
        self._old_keys = set(found[0])
        return dict(zip(*found))

    def cached_tokens(self, keys: list[str]) -> "dict[str, SentenceTokens]":
        """Token states of the live generation's sentences by unit key, where it kept them."""
        manifest = live_manifest(self.index_dir)
        if manifest is None or not manifest.token_states:
            return {}
        try:
            generation = current_generation(self.index_dir)
            stored = [key.decode() for key in np.load(generation / UNIT_KEYS, allow_pickle=False)]
            table = open_token_table(generation, len(stored), manifest.dim)
        except (QAError, OSError, ValueError, TypeError):
            return {}
        wanted = set(keys)
        return {key: table.sentence(i) for i, key in enumerate(stored) if key in wanted}

    def write(self, contents: Contents, rewrite: bool) -> "Written":
        from .dense import choose_index_type

        index_type = choose_index_type(len(contents.vectors))
        write_generation(self.index_dir, replace(contents, manifest=replace(contents.manifest, index_type=index_type)))
        removed = len(self._old_keys - set(contents.unit_keys))
        return Written(passages=len(contents.passages), units=len(contents.units), removed=removed, index_type=index_type)


def live_manifest(index_dir: Path) -> Manifest | None:
    """The live generation's manifest, or None if there is none or it can't be trusted."""
    try:
        generation = current_generation(index_dir)
        if generation is None:
            return None
        data = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (IndexDamagedError, OSError, ValueError):  # a path that is no folder stays an error
        return None
    trusted = isinstance(data, dict) and data.get("format_version") == FORMAT_VERSION and manifest_problem(data) is None
    return read_manifest(data) if trusted else None


def live_documents(index_dir: Path) -> list[Document]:
    """The live generation's documents, or [] when there are none to trust."""
    try:
        generation = current_generation(index_dir)
        if generation is None or live_manifest(index_dir) is None:
            return []
        return _read_documents(generation)
    except (QAError, OSError, ValueError, TypeError, KeyError):
        return []


def live_vectors(index_dir: Path) -> tuple[list[str], np.ndarray] | None:
    """(unit keys, vectors) of the live generation, or None when unreadable or out of step."""
    try:
        generation = current_generation(index_dir)
        keys = np.load(generation / UNIT_KEYS, allow_pickle=False)
        vectors = np.load(generation / VECTORS, allow_pickle=False)
    except (QAError, OSError, ValueError, TypeError):
        return None
    if len(keys) != len(vectors):
        return None
    return [key.decode() for key in keys], vectors


def read_generation(index_dir: Path) -> tuple[Path, Manifest, list[Passage], np.ndarray, np.ndarray]:
    """The live generation of index_dir, checked: its folder, manifest, passages, sentence table
    and (memory-mapped) vectors, what qa.storage.local.LocalStore opens."""
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissingError(f"no index in {index_dir.resolve()}")
    try:
        data = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise damaged(generation, f"manifest unreadable: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("format_version"), int):
        raise damaged(generation, "manifest has no format version")
    manifest = checked_manifest(data, data["format_version"], FORMAT_VERSION, FORMAT_VERSION, f"index at {index_dir}")
    try:
        passages = []
        with open(generation / PASSAGES, encoding="utf-8") as handle:
            for line in handle:
                passages.append(Passage(**json.loads(line)))
        units = np.load(generation / UNITS, allow_pickle=False)
        vectors = np.asarray(np.load(generation / VECTORS, mmap_mode="r", allow_pickle=False))  # a plain view: see qa.storage.token_states
    except (OSError, ValueError, TypeError) as exc:
        raise damaged(generation, f"{type(exc).__name__}: {str(exc)[:120]}") from None
    if len(passages) != manifest.passage_count or len(units) != manifest.unit_count:
        raise damaged(generation, "passage or sentence counts differ from the manifest")
    if units.ndim != 2 or units.shape[1] != 3 or vectors.shape != (len(units), manifest.dim):
        raise damaged(generation, "vectors and passages are out of step")
    if len(units) and (units[:, 0].min() < 0 or units[:, 0].max() >= len(passages) or np.any(np.diff(units[:, 0]) < 0)):
        raise damaged(generation, "sentence table points outside the passages")
    return generation, manifest, passages, units, vectors


def read_forms(generation_dir: Path, passage_count: int, unit_count: int) -> dict[str, list[str]]:
    try:
        forms = json.loads((generation_dir / FORMS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise damaged(generation_dir, f"forms.json unreadable: {exc}") from None
    if len(forms.get("passages", ())) != passage_count or len(forms.get("units", ())) != unit_count:
        raise damaged(generation_dir, "forms.json and passages are out of step")
    return forms


def read_documents(generation_dir: Path) -> dict[str, Document]:
    try:
        return {d.path: d for d in _read_documents(generation_dir)}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise damaged(generation_dir, f"documents.jsonl unreadable: {exc}") from None


def open_faiss(generation_dir: Path, unit_count: int):
    from .dense import load_faiss

    try:
        index = load_faiss(generation_dir / DENSE)
    except RuntimeError as exc:
        raise damaged(generation_dir, f"dense.faiss unreadable: {str(exc).splitlines()[0][:120]}") from None
    if index.ntotal != unit_count:
        raise damaged(generation_dir, "dense.faiss and passages are out of step")
    return index


def open_lexical(generation_dir: Path, passage_count: int):
    from .lexical import LexicalIndex

    try:
        lexical = LexicalIndex.load(generation_dir / LEXICAL)
    except (OSError, ValueError, KeyError) as exc:
        raise damaged(generation_dir, f"lexical index unreadable: {exc}") from None
    if lexical.n_docs != passage_count:
        raise damaged(generation_dir, "lexical index and passages are out of step")
    return lexical


def open_token_table(generation_dir: Path, unit_count: int, dim: int) -> "TokenTable":
    from .token_states import TokenTable

    try:
        return TokenTable.load(generation_dir / STATES, unit_count, dim)
    except (OSError, ValueError) as exc:
        raise damaged(generation_dir, f"token states unreadable: {exc}") from None


def damaged(generation_dir: Path, problem: str) -> IndexDamagedError:
    return IndexDamagedError(f"index at {generation_dir.parent} is damaged ({problem})")


def _write_documents(generation_dir: Path, documents: list[Document]) -> None:
    with open(generation_dir / DOCUMENTS, "w", encoding="utf-8") as handle:
        for document in documents:
            handle.write(json.dumps(asdict(document), ensure_ascii=False) + "\n")


def _read_documents(generation_dir: Path) -> list[Document]:
    from ..models import document_from_dict

    with open(generation_dir / DOCUMENTS, encoding="utf-8") as handle:
        return [document_from_dict(json.loads(line)) for line in handle]


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
