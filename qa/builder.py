"""Building an index from a corpus directory: read, split, embed (reusing what it can), write."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import chunker
from .embedders import Embedder, canonical_spec, engine_of, index_engine, load_embedder
from .errors import BadInputError, QAError
from .models import Document, Passage
from .normalize import normalize
from .reader import Skipped, read_corpus
from .store import FORMAT_VERSION, build_lock, current_generation, new_staging_dir, pause_point, publish, read_documents, write_documents, write_json

EMBED_BATCH = 32
# Bump when reading, splitting or normalization changes, so an unchanged corpus is re-chunked.
PIPELINE_VERSION = "3"

Progress = Callable[[int, int], None]
Stage = Callable[[str], None]


@dataclass(frozen=True)
class BuildReport:
    index_dir: Path
    files: int
    passages: int
    units: int
    skipped: list[Skipped] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    seconds: float = 0.0
    up_to_date: bool = False
    index_type: str = "flat"
    formats: dict[str, int] = field(default_factory=dict)  # files read, by format
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, what was read only in part)


def build_index(
    corpus_dir: Path | str,
    index_dir: Path | str,
    model: str | None = None,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    follow_links: bool = False,
    stage: Stage | None = None,
) -> BuildReport:
    """Index every readable document under corpus_dir into index_dir, atomically.

    Symlinks that lead outside corpus_dir are skipped unless `follow_links`.
    `progress(done, total)` follows the embedding; `stage(text)` is told when each step begins.
    """
    started = time.perf_counter()
    stage = stage or (lambda text: None)
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    spec = embedder.spec if embedder is not None else canonical_spec(model)
    # Vectors are reused only from the same engine, so an index's vectors all come from one.
    engine = getattr(embedder, "engine", None) if embedder is not None else engine_of(model)
    stage(f"reading {corpus_dir.resolve()}")
    known = {} if rebuild else _previous_extracted(index_dir)
    documents, skipped = read_corpus(corpus_dir, follow_outside_links=follow_links, known=known)
    if not documents:
        raise BadInputError(f"no readable documents (.txt, .md, .pdf, .docx, .html, .epub) in {corpus_dir}")
    fingerprint = _fingerprint(documents, spec)
    read = {"formats": dict(Counter(d.format for d in documents)), "warnings": [(d.path, w) for d in documents for w in d.warnings]}

    with build_lock(index_dir):
        previous = _previous_manifest(index_dir) if not rebuild else None
        if previous and previous.get("corpus_fingerprint") == fingerprint:
            return BuildReport(
                index_dir=index_dir,
                files=len(documents),
                passages=previous["passage_count"],
                units=previous["unit_count"],
                skipped=skipped,
                reused=previous["unit_count"],
                seconds=time.perf_counter() - started,
                up_to_date=True,
                index_type=previous.get("index_type", "flat"),
                **read,
            )

        passages = [p for document in documents for p in chunker.split_document(document)]
        units, unit_texts = _units(passages)
        keys = [_unit_key(spec, text) for text in unit_texts]
        cached = _cached_vectors(index_dir, spec, engine) if previous else {}
        missing = sorted({i for i, key in enumerate(keys) if key not in cached}, key=lambda i: len(unit_texts[i]))
        if missing and embedder is None:
            stage(f"loading model {spec}")
            embedder = load_embedder(model or spec)
            engine = getattr(embedder, "engine", None)
        stage(f"embedding {len(missing)} of {len(keys)} sentences ({len(keys) - len(missing)} reused)")
        dim = embedder.dim if embedder is not None else int(previous["dim"])
        vectors = np.zeros((len(keys), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in cached:
                vectors[i] = cached[key]
        _embed_missing(embedder, unit_texts, missing, vectors, progress)

        from .dense import build_faiss, choose_index_type, save_faiss
        from .lexical import LexicalIndex

        index_type = choose_index_type(len(vectors))
        stage(f"writing the index ({len(passages)} passages)")
        staging = new_staging_dir(index_dir)
        try:
            with open(staging / "passages.jsonl", "w", encoding="utf-8") as handle:
                for passage in passages:
                    handle.write(json.dumps(passage.to_dict(), ensure_ascii=False) + "\n")
            # Kept so nothing is re-parsed at query time and a citation still resolves if the file changes.
            write_documents(staging, documents)
            np.save(staging / "units.npy", units)
            np.save(staging / "vectors.npy", vectors)
            pause_point("vectors")
            np.save(staging / "unit_keys.npy", np.array(keys, dtype="S40"))
            # The normalized texts, so searches needn't normalize passages again.
            passage_forms = [normalize(p.text) for p in passages]
            write_json(staging / "forms.json", {"passages": passage_forms, "units": unit_texts})
            save_faiss(build_faiss(vectors, index_type), staging / "dense.faiss")
            LexicalIndex().index(passage_forms, normalized=True).save(staging / "lexical")
            pause_point("lexical")
            write_json(
                staging / "manifest.json",
                {
                    "format_version": FORMAT_VERSION,
                    "model": spec,
                    "engine": engine,
                    "dim": dim,
                    "passage_count": len(passages),
                    "unit_count": len(units),
                    "index_type": index_type,
                    "corpus_dir": str(corpus_dir.resolve()),
                    "corpus_fingerprint": fingerprint,
                    "files": [_file_entry(d) for d in documents],
                    "skipped": [asdict(s) for s in skipped],
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
            )
            publish(index_dir, staging)
            pause_point("published")
        except BaseException:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
            raise
    reused = len(keys) - len(missing)
    return BuildReport(
        index_dir=index_dir,
        files=len(documents),
        passages=len(passages),
        units=len(units),
        skipped=skipped,
        embedded=len(missing),
        reused=reused,
        removed=len(set(cached) - set(keys)) if cached else 0,
        seconds=time.perf_counter() - started,
        index_type=index_type,
        **read,
    )


def _file_entry(document: Document) -> dict:
    entry = {"path": document.path, "format": document.format, "encoding": document.encoding, "chars": len(document.text)}
    if document.page_starts:
        entry["pages"] = len(document.page_starts)
    if document.warnings:
        entry["warnings"] = list(document.warnings)
    return entry


def _units(passages: list[Passage]) -> tuple[np.ndarray, list[str]]:
    """Rows of (passage number, char_start, char_end), in passage order, and their matching texts."""
    rows, texts = [], []
    for number, passage in enumerate(passages):
        for start, end in chunker.dense_units(passage):
            rows.append((number, start, end))
            texts.append(normalize(passage.text[start - passage.char_start : end - passage.char_start]))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3), texts


def _unit_key(spec: str, text: str) -> str:
    return hashlib.sha1(f"{spec}\x00{text}".encode()).hexdigest()


def _embed_missing(embedder: Embedder | None, texts: list[str], missing: list[int], vectors: np.ndarray, progress: Progress | None) -> None:
    if progress:
        progress(0, len(missing))
    # Similar lengths in one batch waste less padding; `missing` is sorted by length.
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        vectors[batch] = embedder.embed([texts[i] for i in batch], is_query=False)
        pause_point("embedding")
        if progress:
            progress(min(start + EMBED_BATCH, len(missing)), len(missing))


def _fingerprint(documents, spec: str) -> str:
    digest = hashlib.sha1(f"{FORMAT_VERSION}\x00{PIPELINE_VERSION}\x00{spec}".encode())
    for document in documents:
        digest.update(f"\x00{document.path}\x00{document.title}\x00{document.page_starts}\x00{document.heading_starts}\x00".encode())
        digest.update(document.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _previous_extracted(index_dir: Path) -> dict[str, Document]:
    """The live generation's extracted documents (PDF, DOCX …) by path, to reuse for unchanged files.

    Plain text is always read again: it costs nothing, and it is where edits within one
    modification-time tick happen.
    """
    try:
        generation = current_generation(index_dir)
        if generation is None or _previous_manifest(index_dir) is None:
            return {}
        documents = read_documents(generation)
    except (QAError, OSError, ValueError, TypeError, KeyError):
        return {}
    return {d.path: d for d in documents if d.format not in ("text", "markdown")}


def _previous_manifest(index_dir: Path) -> dict | None:
    """The live generation's manifest, or None if there is none or it can't be trusted."""
    try:
        generation = current_generation(index_dir)
        if generation is None:
            return None
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
        return manifest if manifest.get("format_version") == FORMAT_VERSION else None
    except (QAError, OSError, ValueError):
        return None


def _cached_vectors(index_dir: Path, spec: str, engine: str | None) -> dict[str, np.ndarray]:
    """Vectors of the live generation by unit key, when it was built with the same model and engine."""
    try:
        generation = current_generation(index_dir)
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("model") != spec or index_engine(manifest) != engine:
            return {}
        keys = np.load(generation / "unit_keys.npy", allow_pickle=False)
        vectors = np.load(generation / "vectors.npy", allow_pickle=False)
    except (QAError, OSError, ValueError, TypeError):
        return {}
    if len(keys) != len(vectors):
        return {}
    return {key.decode(): vector for key, vector in zip(keys, vectors)}
