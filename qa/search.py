"""A loaded index and the search over it: retrieve, fuse, fold, pick the answer."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer import Sentences, pick_answer
from . import crosslingual
from .confidence import confidence, hit_features
from .embedders import Embedder, canonical_spec, load_embedder, query_spec
from .errors import BadInputError, IndexDamagedError, NotFoundError, IndexMissingError, IndexVersionError, ModelMismatchError
from .fold import fold
from .models import Document, Hit, Passage, Source
from .normalize import normalize
from .store import FORMAT_VERSION, current_generation, read_documents

if TYPE_CHECKING:
    from .rerank import Reranker

MODES = ("hybrid", "dense", "lexical")
# Weight of the dense leg in hybrid fusion (chosen on CMRC2018; see fuse()).
DENSE_WEIGHT = 0.6
# The same for a question in other letters than the collection's (qa.crosslingual): its lexical
# leg matches dictionary translations, a weaker clue. Swept 0.6-1.0 on XQuAD's English questions
# split in two halves by article: 0.8 was best on each half.
TRANSLATED_DENSE_WEIGHT = 0.8
CANDIDATES = 50  # per leg, before fusion
MAX_QUESTION_CHARS = 2000  # longer questions are cut: nothing useful past this


@dataclass(frozen=True)
class Candidates:
    passages: list[int]
    dense: np.ndarray | None  # best sentence similarity per passage
    lexical: np.ndarray | None  # BM25 score per passage
    lexical_ceiling: float  # BM25 score of a passage that matched every question word
    query_vector: np.ndarray | None
    translated: bool = False  # the question's words were translated (qa.crosslingual)
    coverage: float = 0.0  # share of the question's words the collection has (lexical leg only)
    gloss: str | None = None  # a translated question's gloss (qa.crosslingual.gloss)

    @property
    def dense_weight(self) -> float:
        return TRANSLATED_DENSE_WEIGHT if self.translated else DENSE_WEIGHT


class Index:
    """An index directory opened for search. Heavy parts load on first use."""

    def __init__(self, generation_dir: Path, manifest: dict, passages: list[Passage], units: np.ndarray, vectors: np.ndarray, embedder: Embedder | None = None):
        self.generation_dir = generation_dir
        self.manifest = manifest
        self.passages = passages
        self.units = units
        self.vectors = vectors
        # units are stored in passage order: passage i owns rows unit_ptr[i]:unit_ptr[i+1]
        self.unit_ptr = np.searchsorted(units[:, 0], np.arange(len(passages) + 1))
        self._embedder = embedder
        self._faiss = None
        self._lexical = None
        self._forms: dict[str, list[str]] | None = None
        self._by_id: dict[str, int] | None = None
        self._by_document: dict[str, list[int]] | None = None
        self._documents: dict[str, Document] | None = None
        self.timings: dict[str, float] = {}
        self.confidence_features = np.zeros((0, 0))  # of the last search's hits (see qa.confidence)

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(query_spec(self.manifest))
        return self._embedder

    @property
    def forms(self) -> dict[str, list[str]]:
        """Normalized texts of passages and sentences, written at index time."""
        if self._forms is None:
            try:
                forms = json.loads((self.generation_dir / "forms.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise _damaged(self.generation_dir, f"forms.json unreadable: {exc}") from None
            if len(forms.get("passages", ())) != len(self.passages) or len(forms.get("units", ())) != len(self.units):
                raise _damaged(self.generation_dir, "forms.json and passages are out of step")
            self._forms = forms
        return self._forms

    @property
    def lexical(self):
        if self._lexical is None:
            from .lexical import LexicalIndex

            try:
                self._lexical = LexicalIndex.load(self.generation_dir / "lexical")
            except (OSError, ValueError, KeyError) as exc:
                raise _damaged(self.generation_dir, f"lexical index unreadable: {exc}") from None
            if self._lexical.n_docs != len(self.passages):
                raise _damaged(self.generation_dir, "lexical index and passages are out of step")
        return self._lexical

    @property
    def faiss(self):
        if self._faiss is None:
            from .dense import load_faiss

            try:
                self._faiss = load_faiss(self.generation_dir / "dense.faiss")
            except RuntimeError as exc:
                raise _damaged(self.generation_dir, f"dense.faiss unreadable: {str(exc).splitlines()[0][:120]}") from None
            if self._faiss.ntotal != len(self.units):
                raise _damaged(self.generation_dir, "dense.faiss and passages are out of step")
        return self._faiss

    def search(self, question: str, top_k: int = 5, mode: str = "hybrid", reranker: "Reranker | None" = None) -> list[Hit]:
        """The top_k passages that answer `question`, near-duplicates folded, each with its answer sentence.

        With a `reranker`, the best top_k * RERANK_DEPTH fused candidates are reordered by its scores.
        """
        if mode not in MODES:
            raise BadInputError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if top_k < 1:
            raise BadInputError("top_k must be at least 1")
        question = question[:MAX_QUESTION_CHARS]
        form = normalize(question)
        if not any(ch.isalnum() for ch in form):
            raise BadInputError("the question has no words to search for")
        self.timings = {}
        candidates = self.candidates(question, form, mode, pool=max(CANDIDATES, top_k * 4))
        started = time.perf_counter()
        scores = fuse(mode, candidates.dense, candidates.lexical, candidates.lexical_ceiling, candidates.dense_weight)
        order = [candidates.passages[i] for i in np.argsort(-scores, kind="stable")]
        position = {p: i for i, p in enumerate(candidates.passages)}
        if mode == "lexical":
            order = [p for p in order if candidates.lexical[position[p]] > 0]
        if reranker is not None:
            order, scores = self._rerank(reranker, question, order, scores, position, top_k)
        dense, lexical = candidates.dense, candidates.lexical
        shortlist = order[: top_k * 4]
        forms = self.forms["passages"]
        groups = fold([self.passages[p] for p in shortlist], [forms[p] for p in shortlist], top_k, [self._surroundings(p) for p in shortlist])
        rows = [position[order[group.members[0]]] for group in groups]  # a group scores as its best-ranked member
        shown = [order[group.representative] for group in groups]
        answer_form = crosslingual.with_translations(question, form, candidates.gloss)
        answers = [self._answer(p, answer_form, candidates.query_vector) for p in shown]
        lexical_share = None if lexical is None else _lexical_share(lexical, candidates.lexical_ceiling)
        self.confidence_features = hit_features(rows, dense, lexical_share, [a.score if a else 0.0 for a in answers], question, candidates.coverage)
        confidences = confidence(self.confidence_features, mode)
        hits = [
            Hit(
                passage=self.passages[p],
                score=float(scores[i]),
                rank=rank,
                answer=answer,
                dense_score=None if dense is None else float(dense[i]),
                lexical_score=None if lexical is None else float(lexical[i]),
                also_in=tuple(_source(self.passages[order[m]]) for m in group.members if m != group.representative),
                confidence=float(sure),
            )
            for rank, (group, p, i, answer, sure) in enumerate(zip(groups, shown, rows, answers, confidences), start=1)
        ]
        self.timings["fuse_fold_answer"] = time.perf_counter() - started
        return hits

    def candidates(self, question: str, form: str, mode: str, pool: int) -> "Candidates":
        """Passages either leg finds in its top `pool`, with both legs' scores for each."""
        query_vector = None
        found: dict[int, None] = {}
        if mode != "lexical":
            started = time.perf_counter()
            query_vector = self.embedder.embed([form], is_query=True)[0]
            self.timings["embed_query"] = time.perf_counter() - started
            started = time.perf_counter()
            from .dense import search_faiss

            # Several sentences of one passage may rank high: ask for more sentences than passages.
            unit_ids, _ = search_faiss(self.faiss, query_vector, pool * 4)
            found.update(dict.fromkeys(int(p) for p in self.units[unit_ids, 0]))
            self.timings["dense"] = time.perf_counter() - started
        lexical_scores, ceiling, coverage = None, 0.0, 0.0
        translated = crosslingual.is_translated(question)
        if mode != "dense":
            started = time.perf_counter()
            if translated:
                # The question's own words in other letters (café) count as they are.
                native = [[token] for token in self.lexical.query_tokens(question) if not token.isascii()]
                groups = crosslingual.translation_groups(question) + native
                lexical_scores, ceiling = self.lexical.group_scores_and_ceiling(groups)
            else:
                groups = [[token] for token in self.lexical.query_tokens(question)]
                lexical_scores, ceiling = self.lexical.scores_and_ceiling(question)
            coverage = self.lexical.coverage(groups)
            top = np.argpartition(-lexical_scores, min(pool, len(lexical_scores) - 1))[:pool]
            found.update(dict.fromkeys(int(p) for p in top if lexical_scores[p] > 0))
            self.timings["lexical"] = time.perf_counter() - started
        passages = list(found)
        candidates = Candidates(
            passages=passages,
            dense=self._passage_similarities(passages, query_vector) if query_vector is not None else None,
            lexical=lexical_scores[passages] if lexical_scores is not None else None,
            lexical_ceiling=ceiling,
            query_vector=query_vector,
            translated=translated,
            coverage=coverage,
        )
        return self._with_gloss(question, mode, candidates) if translated and query_vector is not None else candidates

    def _with_gloss(self, question: str, mode: str, candidates: Candidates) -> Candidates:
        """A translated question's vector moved halfway to its gloss (qa.crosslingual.gloss) in the
        words of the best candidates: the multilingual model matches a question best in the
        language of the text, and the dense leg re-scores the same candidates with it."""
        started = time.perf_counter()
        scores = fuse(mode, candidates.dense, candidates.lexical, candidates.lexical_ceiling, candidates.dense_weight)
        best = np.argsort(-scores, kind="stable")[: crosslingual.FEEDBACK_PASSAGES]
        gloss = crosslingual.gloss(question, [self.forms["passages"][candidates.passages[i]] for i in best])
        if not gloss:
            return candidates
        vector = candidates.query_vector + self.embedder.embed([normalize(f"{question} {gloss}")], is_query=True)[0]
        vector = (vector / np.linalg.norm(vector)).astype(np.float32)
        self.timings["gloss"] = time.perf_counter() - started
        return replace(candidates, dense=self._passage_similarities(candidates.passages, vector), query_vector=vector, gloss=gloss)

    def _rerank(self, reranker: "Reranker", question: str, order: list[int], scores: np.ndarray, position: dict[int, int], top_k: int):
        """Reorder the head of `order` by the reranker; hits then report the reranker's scores."""
        from .rerank import RERANK_DEPTH

        started = time.perf_counter()
        head = order[: top_k * RERANK_DEPTH]
        reranked = reranker.score(question, [self.passages[p].text for p in head])
        ranking = sorted(range(len(head)), key=lambda i: -reranked[i])
        scores = scores.copy()
        for passage, value in zip(head, reranked):
            scores[position[passage]] = value
        self.timings["rerank"] = time.perf_counter() - started
        return [head[i] for i in ranking] + order[len(head) :], scores

    def _passage_similarities(self, passages: list[int], query_vector: np.ndarray) -> np.ndarray:
        """Each passage scores as its best sentence: one strong sentence is what answers."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        starts, ends = self.unit_ptr[passages], self.unit_ptr[np.asarray(passages) + 1]
        rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
        similarities = self.vectors[rows] @ query_vector
        offsets = np.concatenate([[0], np.cumsum(ends - starts)[:-1]])
        return np.maximum.reduceat(similarities, offsets).astype(np.float32)

    def sentences(self, p: int) -> Sentences:
        """Passage p's sentences: offsets, normalized texts, vectors, and the vector of the
        sentence just before the passage when the same document goes on from there."""
        start, end = self.unit_ptr[p], self.unit_ptr[p + 1]
        # Sentences are stored in document order: the row before is the previous sentence,
        # if it belongs to the same document.
        continues = start > 0 and self.passages[int(self.units[start - 1, 0])].doc_path == self.passages[p].doc_path
        return Sentences(
            spans=[(int(a), int(b)) for _, a, b in self.units[start:end]],
            forms=self.forms["units"][start:end],
            vectors=np.asarray(self.vectors[start:end]),
            previous_vector=np.asarray(self.vectors[start - 1]) if continues else None,
        )

    def passage(self, passage_id: str) -> Passage:
        """The passage with this id (ids are shown by `qa ask` and in JSON as passage_id)."""
        number = self._passage_numbers.get(passage_id)
        if number is None:
            raise NotFoundError(f"no passage {passage_id!r} in this index")
        return self.passages[number]

    def document_passages(self, doc_path: str) -> list[Passage]:
        """The passages of one indexed document, in document order."""
        numbers = self._document_passage_numbers.get(doc_path)
        if numbers is None:
            raise NotFoundError(f"no document {doc_path!r} in this index")
        return [self.passages[n] for n in numbers]

    def document(self, doc_path: str) -> Document:
        """The indexed document: its text as cited (extracted text for PDF and the like), pages, title."""
        self.document_passages(doc_path)  # NotFoundError for anything not indexed
        if self._documents is None:
            try:
                self._documents = {d.path: d for d in read_documents(self.generation_dir)}
            except (OSError, ValueError, TypeError, KeyError) as exc:
                raise _damaged(self.generation_dir, f"documents.jsonl unreadable: {exc}") from None
        if doc_path not in self._documents:
            raise _damaged(self.generation_dir, f"documents.jsonl lacks {doc_path}")
        return self._documents[doc_path]

    def document_text(self, doc_path: str) -> str:
        """The text passages of `doc_path` cite: `document_text(p.doc_path)[p.char_start:p.char_end] == p.text`.

        Only documents the index lists are known, so a path can never reach outside the corpus.
        """
        return self.document(doc_path).text

    @property
    def _passage_numbers(self) -> dict[str, int]:
        if self._by_id is None:
            self._by_id = {p.id: n for n, p in enumerate(self.passages)}
        return self._by_id

    @property
    def _document_passage_numbers(self) -> dict[str, list[int]]:
        if self._by_document is None:
            self._by_document = {}
            for n, p in enumerate(self.passages):
                self._by_document.setdefault(p.doc_path, []).append(n)
        return self._by_document

    def _surroundings(self, p: int) -> str:
        """Passage p's normalized text with its neighbours in the same file (for folding)."""
        forms = self.forms["passages"]
        return "".join(forms[n] for n in (p - 1, p, p + 1) if 0 <= n < len(self.passages) and self.passages[n].doc_path == self.passages[p].doc_path)

    def _answer(self, p: int, form: str, query_vector: np.ndarray | None):
        return pick_answer(self.passages[p], self.sentences(p), form, query_vector)


def fuse(mode: str, dense: np.ndarray | None, lexical: np.ndarray | None, lexical_ceiling: float, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """One score per candidate.

    Hybrid: `dense_weight` times the best sentence's similarity, min-max scaled over the
    candidates (so any model's similarity scale works), plus the rest times the share of
    the question's BM25 weight that the passage matches: its score over the score of a
    passage that matched every question word once. Dividing by that ceiling rather than
    by the best candidate keeps a weak lexical match weak when nothing matches better.
    An English question over Chinese text matches only its words' dictionary translations
    (qa.crosslingual), a weaker clue: it passes TRANSLATED_DENSE_WEIGHT.
    On CMRC2018 this beat min-max scaling of both legs and reciprocal rank fusion
    (benchmarks/fusion_sweep.py).
    """
    if mode == "dense":
        return dense
    if mode == "lexical":
        return lexical.astype(np.float32)
    return (dense_weight * _min_max(dense) + (1 - dense_weight) * _lexical_share(lexical, lexical_ceiling)).astype(np.float32)


def _lexical_share(lexical: np.ndarray, lexical_ceiling: float) -> np.ndarray:
    """Each passage's BM25 score as a share of what matching every question word would score."""
    return lexical / lexical_ceiling if lexical_ceiling > 0 else np.zeros_like(lexical)


def _min_max(scores: np.ndarray) -> np.ndarray:
    if len(scores) == 0:
        return scores.astype(np.float32)
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.zeros(len(scores), dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def _source(passage: Passage) -> Source:
    return Source(
        passage_id=passage.id, doc_path=passage.doc_path, paragraph=passage.paragraph, line_start=passage.line_start, line_end=passage.line_end, page=passage.page
    )


def _damaged(generation_dir: Path, problem: str) -> IndexDamagedError:
    return IndexDamagedError(f"index at {generation_dir.parent} is damaged ({problem})")


def load_index(index_dir: Path | str, model: str | None = None, embedder: Embedder | None = None) -> Index:
    """Open the live index in index_dir; `model`, if given, must be the one it was built with."""
    index_dir = Path(index_dir)
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissingError(f"no index in {index_dir.resolve()}")
    try:
        manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(generation, f"manifest unreadable: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format_version"), int):
        raise _damaged(generation, "manifest has no format version")
    if manifest["format_version"] > FORMAT_VERSION:
        raise IndexVersionError(f"index at {index_dir} was written by a newer qa (format {manifest['format_version']}); upgrade qa")
    if manifest["format_version"] < FORMAT_VERSION:
        raise IndexVersionError(f"index at {index_dir} has old format {manifest['format_version']}")
    wanted = embedder.spec if embedder is not None else (canonical_spec(model) if model else None)
    if wanted and wanted != manifest.get("model"):
        raise ModelMismatchError(f"index at {index_dir} was built with model {manifest.get('model')!r}, not {wanted!r}", built_with=manifest.get("model"), asked_for=wanted)
    try:
        passages = []
        with open(generation / "passages.jsonl", encoding="utf-8") as handle:
            for line in handle:
                passages.append(Passage(**json.loads(line)))
        units = np.load(generation / "units.npy", allow_pickle=False)
        vectors = np.load(generation / "vectors.npy", mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, TypeError) as exc:
        raise _damaged(generation, f"{type(exc).__name__}: {str(exc)[:120]}") from None
    if len(passages) != manifest.get("passage_count") or len(units) != manifest.get("unit_count"):
        raise _damaged(generation, "passage or sentence counts differ from the manifest")
    if units.ndim != 2 or units.shape[1] != 3 or vectors.shape != (len(units), manifest.get("dim")):
        raise _damaged(generation, "vectors and passages are out of step")
    if len(units) and (units[:, 0].min() < 0 or units[:, 0].max() >= len(passages) or np.any(np.diff(units[:, 0]) < 0)):
        raise _damaged(generation, "sentence table points outside the passages")
    return Index(generation, manifest, passages, units, vectors, embedder=embedder)
