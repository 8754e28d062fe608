"""Building an index from a corpus directory: read, split, embed (reusing what it can), write."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .embedding.embedders import Embedder, canonical_spec, engine_of, index_engine, keeps_token_states, load_embedder
from .errors import BadInputError, CorpusConflictError, IndexDamagedError, IndexVersionError
from .ingest import chunker
from .ingest.normalize import normalize
from .ingest.reader import Skipped, read_corpus
from .models import Document, Passage
from .storage.generation import FORMAT_VERSION
from .storage.index_dir import holds_index, pause_point
from .storage.manifest import Manifest
from .storage.records import Contents
from .storage.token_states import SentenceTokens, TokenTable

EMBED_BATCH = 32
LEXICAL_CONTEXT = "path"  # what of a passage's context is indexed with its words: "", "title" or "path" (chunker.context)
# Bump when reading, splitting or normalization changes, so an unchanged corpus is re-chunked.
# 4: token states kept; 5: short paragraphs grouped, heading paths; 6: layouts, tables, context;
# 7: rows and lines as sentences; 8: OCR lines kept; 9: Word headings by outline level (on a style or its base);
# 10: Markdown tables as labelled rows, code blocks whole, PDF drawings not tables;
# 11: OCR figure labels left out, cover titles, rows of numbered cells not headings; 12: OCR headings without their space;
# 13: PDF formulas in large type not headings; 14: "- 3 -" page numbers in contents, "1.1、" headings, formulas without operators;
# 15: PDF type set at size 1 measured by its matrix, body size by letters, prose and bullets in larger type not headings;
# 16: a table row embedded after its section; 17: prose and bullets kept from size headings only;
# 18: a running header set close to the text left out when its words recur; 19: HTML class words count as far as the element holds prose;
# 20: PDF titles left as hex strings decoded; 21: a lead-in keeps the list it announces, an item's "1." ends no sentence
# 22: three-line tables (no vertical rules) read as tables, a table in a column counts its rows there,
#     a row centred on the gutter is full-width; a table row's section path ends in its caption
# 23: an HTML table's <caption> is the line above its rows
PIPELINE_VERSION = "23"

Progress = Callable[[int, int], None]
Stage = Callable[[str], None]


@dataclass(frozen=True)
class BuildReport:
    index_dir: Path | str  # where the collection is (a folder, or a Milvus collection)
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
    layouts: list[tuple[str, str]] = field(default_factory=list)  # (path, what its reader found: columns, tables, a TOC left out)
    notes: tuple[str, ...] = ()  # what the backend says about what it built (a dense-only collection, and why)


def build_index(
    corpus_dir: Path | str,
    index_dir: Path | str | None = None,
    model: str | None = None,
    embedder: Embedder | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    follow_links: bool = False,
    stage: Stage | None = None,
    backend: str | None = None,
    collection: str | None = None,
    replace: bool = False,
    mode: str | None = None,
) -> BuildReport:
    """Index every readable document under corpus_dir into a collection (index_dir's, or on `backend`).

    Symlinks that lead outside corpus_dir are skipped unless `follow_links`. A collection holds
    one corpus folder: indexing another one into it is refused unless `replace`.
    `progress(done, total)` follows the embedding; `stage(text)` is told when each step begins.
    `mode` "dense" builds a dense-only Milvus collection (smaller, faster to build); None gives
    both legs where the backend can.
    """
    from .storage.backend import open_writer

    started = time.perf_counter()
    stage = stage or (lambda text: None)
    corpus_dir = Path(corpus_dir)
    writer = open_writer(index_dir, backend, collection, mode)
    spec = embedder.spec if embedder is not None else canonical_spec(model)
    # Vectors are reused only from the same engine, so an index's vectors all come from one.
    engine = getattr(embedder, "engine", None) if embedder is not None else engine_of(model)
    stage(f"reading {corpus_dir.resolve()}")
    # Extracted text is reused for unchanged files, but only from this pipeline: a newer qa
    # reads layouts and tables differently.
    earlier = None if rebuild else writer.previous_manifest()  # another qa's index: refused here, before reading
    ocr_on = _ocr_on()
    same_reading = earlier and earlier.pipeline_version == PIPELINE_VERSION and earlier.ocr == ocr_on
    known = writer.previous_documents() if same_reading else {}
    documents, skipped = read_corpus(
        corpus_dir, follow_outside_links=follow_links, known=known, on_ocr_page=lambda path, done, total: stage(f"OCR {path}: page {done} of {total}"),
        leave_out=holds_index,
    )
    if not documents:
        raise BadInputError(f"no readable documents (.txt, .md, .pdf, .docx, .doc, .rtf, .html, .epub) in {corpus_dir}")
    fingerprint = _fingerprint(documents, spec)
    read = {
        "formats": dict(Counter(d.format for d in documents)),
        "warnings": [(d.path, w) for d in documents for w in d.warnings],
        "layouts": [(d.path, "; ".join(d.layout)) for d in documents if d.layout],
    }

    with writer.lock():
        previous = _previous_manifest(writer, rebuild)
        if previous and not replace and previous.corpus_dir != str(corpus_dir.resolve()):
            raise CorpusConflictError(
                f"{writer.location} holds the index of {previous.corpus_dir}, not of {corpus_dir.resolve()}",
                collection=collection,
            )
        if previous and not rebuild and previous.corpus_fingerprint == fingerprint and writer.fits(previous):
            return BuildReport(
                index_dir=writer.location,
                files=len(documents),
                passages=previous.passage_count,
                units=previous.unit_count,
                skipped=skipped,
                reused=previous.unit_count,
                seconds=time.perf_counter() - started,
                up_to_date=True,
                index_type=previous.index_type,
                **read,
            )
        files = [_file_entry(d) for d in documents]
        # An update in place needs the same model, engine and legs; anything else is written anew.
        same_vectors = previous is not None and not rebuild and previous.model == spec and index_engine(previous.model, previous.engine) == engine and writer.fits(previous)
        needed = writer.needs(files) if same_vectors else {f["path"] for f in files}
        passages = [p for document in documents if document.path in needed for p in chunker.split_document(document)]
        # Markdown's lines are blocks (a row, an item, a heading) as an extracted text's are.
        extracted = {d.path for d in documents if d.format != "text"}
        units, unit_forms = _units(passages, extracted)
        # What the encoder reads: each sentence, after its passage's context if chunker.DENSE_CONTEXT says so.
        unit_texts = [chunker.embedding_text(passages[int(number)], form) for (number, _, _), form in zip(units, unit_forms)]
        keys = [_unit_key(spec, text) for text in unit_texts]
        cached = writer.cached_vectors(spec, engine, keys) if same_vectors else {}
        # Token states (qa.retrieve.align) come from the int8 engine's own pass, for a store that keeps them.
        keeps_tokens = writer.keeps_token_states and keeps_token_states(spec, engine) and (embedder is None or hasattr(embedder, "embed_with_states"))
        cached_tokens = writer.cached_tokens(keys) if same_vectors and keeps_tokens else {}
        missing = sorted({i for i, key in enumerate(keys) if key not in cached or (keeps_tokens and key not in cached_tokens)}, key=lambda i: len(unit_texts[i]))
        if missing and embedder is None:
            stage(f"loading model {spec}")
            embedder = load_embedder(model or spec)
            engine = getattr(embedder, "engine", None)
            keeps_tokens = keeps_tokens and hasattr(embedder, "embed_with_states")
        stage(f"embedding {len(missing)} of {len(keys)} sentences ({len(keys) - len(missing)} reused)")
        dim = embedder.dim if embedder is not None else previous.dim
        vectors = np.zeros((len(keys), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in cached:
                vectors[i] = cached[key]
        tokens = [cached_tokens.get(key) for key in keys] if keeps_tokens else None
        _embed_missing(embedder, unit_texts, missing, vectors, tokens, progress)

        stage(f"writing the index ({len(passages)} passages)")
        manifest = Manifest(
            model=spec,
            engine=engine,
            dim=dim,
            passage_count=len(passages),
            unit_count=len(units),
            corpus_dir=str(corpus_dir.resolve()),
            corpus_fingerprint=fingerprint,
            files=files,
            skipped=[asdict(s) for s in skipped],
            token_states=tokens is not None,
            pipeline_version=PIPELINE_VERSION,
            ocr=ocr_on,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            index_type="",  # the backend's to choose
        )
        contents = Contents(
            manifest=manifest,
            passages=passages,
            documents=[d for d in documents if d.path in needed],
            units=units,
            vectors=vectors,
            unit_keys=keys,
            passage_forms=[normalize(p.text) for p in passages],
            lexical_forms=[normalize(f"{chunker.context(p, LEXICAL_CONTEXT)}\n{p.text}") for p in passages],
            unit_forms=unit_forms,
            unit_tokens=TokenTable.of(tokens, dim) if tokens is not None else None,
        )
        written = writer.write(contents, rewrite=not same_vectors)
    return BuildReport(
        index_dir=writer.location,
        files=len(documents),
        passages=written.passages,
        units=written.units,
        skipped=skipped,
        embedded=len(missing),
        reused=written.units - len(missing),  # unchanged files' sentences count as reused, wherever they are kept
        removed=written.removed,
        seconds=time.perf_counter() - started,
        index_type=written.index_type,
        notes=written.notes,
        **read,
    )


def _previous_manifest(writer, rebuild: bool) -> Manifest | None:
    """What the build replaces; an index another qa wrote (or one damaged) only a rebuild writes over."""
    try:
        return writer.previous_manifest()
    except (IndexVersionError, IndexDamagedError):
        if rebuild:
            return None
        raise


def _ocr_on() -> bool:
    """Whether scanned pages and images are read (the OCR extra installed, not turned off): when
    that changes, documents read the other way are read again."""
    from .ingest.formats.ocr import unavailable

    return unavailable() is None


def _file_entry(document: Document) -> dict:
    """A file as the manifest lists it; `digest` tells a backend that updates in place which files changed."""
    digest = _fingerprint([document], "")
    entry = {"path": document.path, "format": document.format, "encoding": document.encoding, "chars": len(document.text), "digest": digest}
    if document.page_starts:
        entry["pages"] = len(document.page_starts)
    if document.warnings:
        entry["warnings"] = list(document.warnings)
    if document.layout:
        entry["layout"] = list(document.layout)
    return entry


def _units(passages: list[Passage], extracted: set[str] = frozenset()) -> tuple[np.ndarray, list[str]]:
    """Rows of (passage number, char_start, char_end), in passage order, and their matching
    texts. In the `extracted` files (a reader's text: one paragraph, heading or row a line)
    each line ends a sentence."""
    rows, texts = [], []
    for number, passage in enumerate(passages):
        for start, end in chunker.dense_units(passage, passage.doc_path in extracted):
            rows.append((number, start, end))
            texts.append(normalize(passage.text[start - passage.char_start : end - passage.char_start]))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3), texts


def _unit_key(spec: str, text: str) -> str:
    return hashlib.sha1(f"{spec}\x00{text}".encode()).hexdigest()


def _embed_missing(embedder: Embedder | None, texts: list[str], missing: list[int], vectors: np.ndarray, tokens: list | None, progress: Progress | None) -> None:
    """Fill vectors (and tokens, when kept) of the `missing` sentences."""
    if progress:
        progress(0, len(missing))
    # Similar lengths in one batch waste less padding; `missing` is sorted by length.
    for start in range(0, len(missing), EMBED_BATCH):
        batch = missing[start : start + EMBED_BATCH]
        if tokens is None:
            vectors[batch] = embedder.embed([texts[i] for i in batch], is_query=False)
        else:
            vectors[batch], found = embedder.embed_with_states([texts[i] for i in batch])
            for i, (ids, states) in zip(batch, found):
                tokens[i] = SentenceTokens(ids=np.asarray(ids, dtype=np.int32), vectors=states)
        pause_point("embedding")
        if progress:
            progress(min(start + EMBED_BATCH, len(missing)), len(missing))


def _fingerprint(documents, spec: str) -> str:
    digest = hashlib.sha1(f"{FORMAT_VERSION}\x00{PIPELINE_VERSION}\x00{spec}".encode())
    for document in documents:
        digest.update(f"\x00{document.path}\x00{document.title}\x00{document.page_starts}\x00{document.heading_starts}\x00".encode())
        digest.update(document.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
