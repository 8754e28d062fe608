"""A loaded index and the search over it: retrieve, fuse, fold, pick the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer.confidence import confidence, hit_features, is_answered
from .answer.picker import pick_answer
from .embedding.embedders import Embedder, canonical_spec, engine_of, load_aligner, load_embedder, query_spec
from .errors import BadInputError, ModelMismatchError, NotFoundError
from .ingest import chunker
from .ingest.chunker import opening_title
from .ingest.normalize import normalize
from .models import MODES, Document, Hit, Passage, Sentences, Source, TokenStates
from .retrieve import crosslingual
from .retrieve.align import ALIGN_DEPTH, ALIGN_WEIGHT, ENCODED_ALIGN_DEPTH, Aligner, PassageStates, QuestionAlignment
from .retrieve.filters import Filter
from .retrieve.fold import fold

if TYPE_CHECKING:
    from .retrieve.rerank import Reranker
    from .storage.manifest import Manifest
    from .storage.store import Store

# Weight of the dense leg in hybrid fusion (chosen on CMRC2018; see fuse()).
DENSE_WEIGHT = 0.6
# The same for a question in other letters than the collection's (qa.retrieve.crosslingual): its lexical
# leg matches dictionary translations, a weaker clue. Swept 0.6-1.0 on XQuAD's English questions
# split in two halves by article: 0.8 was best on each half. An English question whose first
# passages hold no translation of its words (no gloss) is over English text: its own words
# match, and it is fused as any question (real documents' hit@5 0.907 -> 0.920).
TRANSLATED_DENSE_WEIGHT = 0.8
CANDIDATES = 50  # per leg, before fusion
MAX_QUESTION_CHARS = 2000  # longer questions are refused; a normalized form is cut to this too
MAX_TOP_K = 100  # the most hits a question may ask for
NO_WORDS = "the question has no words to search for"


@dataclass(frozen=True)
class SearchRequest:
    """One question and how to ask it. The Python API, `qa ask`, the HTTP API and MCP each build
    one, and it is checked here, once: every interface refuses the same things in the same words
    (BadInputError)."""

    question: str
    top_k: int = 5
    mode: str | None = None  # hybrid, dense or lexical; None: hybrid, or dense in a dense-only collection
    where: Filter = field(default_factory=Filter)  # only passages of the documents it selects
    collection: str | None = None  # which collection answers (qa.live.LiveCollections); None: the one opened
    reranker: "Reranker | None" = None  # re-orders the best fused candidates (qa.retrieve.rerank)

    def __post_init__(self) -> None:
        if not isinstance(self.question, str):
            raise BadInputError(f"the question must be text, not {type(self.question).__name__}")
        if not any(ch.isalnum() for ch in self.question):  # Index.ask checks its normalized form too
            raise BadInputError(NO_WORDS)
        if len(self.question) > MAX_QUESTION_CHARS:
            raise BadInputError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        if not isinstance(self.top_k, int) or isinstance(self.top_k, bool) or not 1 <= self.top_k <= MAX_TOP_K:
            raise BadInputError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, not {self.top_k!r}")
        if self.mode is not None and self.mode not in MODES:
            raise BadInputError(f"unknown mode {self.mode!r}: use one of {', '.join(MODES)}")
        if not isinstance(self.where, Filter):
            raise BadInputError(f"where must be a Filter, not {type(self.where).__name__}")
        if self.collection is not None:
            from .storage.records import check_collection_name

            check_collection_name(self.collection)


@dataclass(frozen=True)
class SearchResult:
    """What one search gives: its hits, the mode it ran in, whether the top hit seems to answer
    at all, where the time went, and the features the confidence model scored the hits by.
    Nothing of a search is kept on the shared Index: a server's threads each get their own."""

    hits: list[Hit]
    mode: str
    answered: bool  # qa.answer.confidence.is_answered: the top hit's confidence clears its threshold
    timings: dict[str, float]
    confidence_features: np.ndarray  # one row per hit (qa.answer.confidence.hit_features)


@dataclass(frozen=True)
class Candidates:
    passages: list[int]
    dense: np.ndarray | None  # best sentence similarity per passage
    lexical: np.ndarray | None  # BM25 score per passage
    lexical_ceiling: float  # BM25 score of a passage that matched every question word
    query_vector: np.ndarray | None
    translated: bool = False  # the question's words were translated (qa.retrieve.crosslingual) for text in another language
    coverage: float = 0.0  # share of the question's words the collection has (lexical leg only)
    gloss: str | None = None  # a translated question's gloss (qa.retrieve.crosslingual.gloss)
    question_states: TokenStates | None = None  # the question's token states, from the pass that embedded it (with its gloss, if any)

    @property
    def dense_weight(self) -> float:
        return TRANSLATED_DENSE_WEIGHT if self.translated else DENSE_WEIGHT


class Index:
    """An opened index (a store: local generation or Milvus collection) and the search over it."""

    def __init__(self, store: "Store", embedder: Embedder | None = None, aligner: Aligner | None = None):
        """`aligner`: what re-orders hybrid search's best candidates token by token (qa.retrieve.align);
        by default the one the index's model has, if any."""
        self.store = store
        self._embedder = embedder
        self._aligner = aligner
        self._aligner_loaded = aligner is not None
        self._passage_states = PassageStates()  # passage numbers are this store's: one per Index

    @property
    def manifest(self) -> "Manifest":
        return self.store.manifest

    @property
    def generation(self) -> str:
        """Names what was opened; it changes when a build publishes."""
        return self.store.generation

    @property
    def generation_dir(self) -> Path | None:
        """The generation directory of a local index (None for a remote one)."""
        return getattr(self.store, "generation_dir", None)

    @property
    def passages(self) -> list[Passage]:
        """All passages, in index order (a remote store loads them all: for tools and tests)."""
        return self.store.all_passages()

    @property
    def model(self) -> str:
        return self.manifest.model

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(query_spec(self.manifest.model, self.manifest.engine))
        return self._embedder

    @property
    def aligner(self) -> Aligner | None:
        if not self._aligner_loaded:
            self._aligner = load_aligner(self.model)
            self._aligner_loaded = True
        return self._aligner

    @property
    def align_depth(self) -> int:
        """How many of the best fused candidates token alignment re-orders: more where the build
        kept their tokens, and aligning one costs no encoder pass."""
        return ALIGN_DEPTH if self.manifest.token_states else ENCODED_ALIGN_DEPTH

    @property
    def default_mode(self) -> str:
        """hybrid, or dense in a dense-only collection."""
        return "hybrid" if "hybrid" in self.store.modes else "dense"

    def search(self, question: str, top_k: int = 5, mode: str | None = None, reranker: "Reranker | None" = None, where: Filter | None = None) -> list[Hit]:
        """The top_k passages that answer `question`, near-duplicates folded, each with its answer sentence.

        `mode` is hybrid, dense or lexical; by default, hybrid where the collection has both legs.
        With a `reranker`, the best top_k * RERANK_DEPTH fused candidates are reordered by its scores.
        With `where`, only passages of the documents it selects are ranked. `ask` takes the same
        as one SearchRequest and also says which mode ran, whether it answered, where the time went.
        """
        return self.ask(SearchRequest(question, top_k, mode, where if where is not None else Filter(), reranker=reranker)).hits

    def ask(self, request: SearchRequest) -> SearchResult:
        """The search a SearchRequest asks for (its `collection` is for qa.live.LiveCollections to
        resolve: this Index answers whatever collection it opened)."""
        if not isinstance(request, SearchRequest):
            raise BadInputError(f"Index.ask takes a SearchRequest, not {type(request).__name__}: Index.search takes a question")
        question, top_k, reranker, where = request.question, request.top_k, request.reranker, request.where
        mode = request.mode or self.default_mode
        if mode not in self.store.modes:
            built_on = self.manifest.milvus_version
            raise BadInputError(
                f"{self.store.location} is a dense-only collection{f' (built on Milvus {built_on})' if built_on else ''}: "
                f"{mode} search needs its lexical leg; use mode dense"
            )
        question, form = _bounded(question)
        if not any(ch.isalnum() for ch in form):
            raise BadInputError(NO_WORDS)
        timings: dict[str, float] = {}
        candidates = self.candidates(question, form, mode, pool=max(CANDIDATES, top_k * 4), where=where, timings=timings)
        started = time.perf_counter()
        scores = fuse(mode, candidates.dense, candidates.lexical, candidates.lexical_ceiling, candidates.dense_weight)
        order = [candidates.passages[i] for i in np.argsort(-scores, kind="stable")]
        position = {p: i for i, p in enumerate(candidates.passages)}
        if mode == "lexical":
            order = [p for p in order if candidates.lexical[position[p]] > 0]
        aligned = None
        if reranker is not None:
            order, scores = self._rerank(reranker, question, order, scores, position, top_k, timings)
        elif mode == "hybrid" and self.aligner is not None:
            aligned = QuestionAlignment(self.aligner, form, self._passage_states, self.store.passage_tokens, candidates.question_states)
            order, scores = self._align(aligned, order, scores, position, timings)
        dense, lexical = candidates.dense, candidates.lexical
        shortlist = order[: top_k * 4]
        store = self.store
        store.fetch([n for p in shortlist for n in (p - 1, p, p + 1)])
        groups = fold([store.passage(p) for p in shortlist], [store.form(p) for p in shortlist], top_k, [self._surroundings(p) for p in shortlist])
        rows = [position[order[group.members[0]]] for group in groups]  # a group scores as its best-ranked member
        shown = [order[group.representative] for group in groups]
        store.fetch(shown, with_sentences=True)
        answer_form = crosslingual.with_translations(question, form, candidates.gloss)
        # The first hits' sentences as embedded: their alignment weighs their answers and confidence
        # (folding may have brought up one the re-ordering did not align).
        first_sentences: dict[int, list[str]] = {}
        if aligned is not None:
            first_sentences = {p: _embedded_sentences(store, p) for p in shown[: self.align_depth]}
            aligned.compute(first_sentences)
        answers = [self._answer(p, answer_form, candidates.query_vector, aligned) for p in shown]
        lexical_share = None if lexical is None else _lexical_share(lexical, candidates.lexical_ceiling)
        hit_alignment = None if aligned is None else self._hit_alignment(aligned, form, candidates, shown, first_sentences)
        features = hit_features(rows, dense, lexical_share, [a.score if a else 0.0 for a in answers], question, candidates.coverage, hit_alignment)
        confidences = confidence(features, mode)
        hits = [
            Hit(
                passage=store.passage(p),
                score=float(scores[i]),
                rank=rank,
                answer=answer,
                dense_score=None if dense is None else float(dense[i]),
                lexical_score=None if lexical is None else float(lexical[i]),
                also_in=tuple(_source(store.passage(order[m])) for m in group.members if m != group.representative),
                confidence=float(sure),
            )
            for rank, (group, p, i, answer, sure) in enumerate(zip(groups, shown, rows, answers, confidences), start=1)
        ]
        timings["fuse_fold_answer"] = time.perf_counter() - started
        return SearchResult(hits=hits, mode=mode, answered=is_answered(hits, mode), timings=timings, confidence_features=features)

    def candidates(self, question: str, form: str, mode: str, pool: int, where: Filter | None = None, timings: dict[str, float] | None = None) -> "Candidates":
        """Passages either leg finds in its top `pool`, with both legs' scores for each; the
        legs' times go into `timings`."""
        timings = {} if timings is None else timings
        allowed = self.store.allowed(self._doc_paths(where))
        query_vector = question_states = None
        found: dict[int, None] = {}
        translated = crosslingual.is_translated(question)
        if mode != "lexical":
            started = time.perf_counter()
            if mode == "hybrid" and not translated and self._embeds_with_states():
                query_vector, question_states = self.embedder.embed_query_with_states(form)
            else:
                query_vector = self.embedder.embed([form], is_query=True)[0]
            timings["embed_query"] = time.perf_counter() - started
            started = time.perf_counter()
            found.update(dict.fromkeys(self.store.dense.search(query_vector, pool, allowed)))
            timings["dense"] = time.perf_counter() - started
        lexical = None
        if mode != "dense":
            started = time.perf_counter()
            translations = crosslingual.translation_groups(question) if translated else None
            lexical = self.store.lexical.search(question, pool, allowed, translations)
            found.update(dict.fromkeys(lexical.found))
            timings["lexical"] = time.perf_counter() - started
        passages = list(found)
        candidates = Candidates(
            passages=passages,
            dense=self.store.dense.similarities(passages, query_vector) if query_vector is not None else None,
            lexical=lexical.scores(passages) if lexical is not None else None,
            lexical_ceiling=lexical.ceiling if lexical is not None else 0.0,
            query_vector=query_vector,
            translated=translated,
            coverage=lexical.coverage if lexical is not None else 0.0,
            question_states=question_states,
        )
        if translated and query_vector is not None:
            candidates = self._without_language_bias(self._with_gloss(question, mode, candidates, timings))
        return candidates

    def _embeds_with_states(self) -> bool:
        """Whether one encoder pass can give a question's vector and its token states for
        alignment: the index's query engine is the aligner's (the default model on onnx-int8).
        Against a second pass over the question alone, a warm question takes a third less time
        (p50 19 -> 13 ms on the bundled corpus, one core) and no quality figure of the guard
        falls by half a point. A question in Latin letters (crosslingual.is_translated) takes its
        states from the pass with its gloss instead (_with_gloss): its tokens alone, read beside
        the query: prefix, aligned less well with Chinese text (XQuAD's English questions lost 4
        answers of 632); without a gloss, from a pass over it alone."""
        return self.aligner is not None and self.aligner is self.embedder and hasattr(self.embedder, "embed_query_with_states")

    def _with_gloss(self, question: str, mode: str, candidates: Candidates, timings: dict[str, float]) -> Candidates:
        """A translated question's vector moved halfway to its gloss (qa.retrieve.crosslingual.gloss) in the
        words of the best candidates, fused and lexical: the multilingual model matches a question best in the
        language of the text, and the dense leg re-scores the same candidates with it."""
        started = time.perf_counter()
        scores = fuse(mode, candidates.dense, candidates.lexical, candidates.lexical_ceiling, candidates.dense_weight)
        best = list(np.argsort(-scores, kind="stable")[: crosslingual.FEEDBACK_PASSAGES])
        if candidates.lexical is not None:
            # The lexical leg's best too: they hold the translations of the question's words, where
            # the first fused ranking may hold none (XQuAD English R@1 0.9098 -> 0.9114, real documents' hit@5 0.827 -> 0.867).
            lexical_best = np.argsort(-candidates.lexical, kind="stable")[: crosslingual.FEEDBACK_PASSAGES]
            best += [i for i in lexical_best if i not in best and candidates.lexical[i] > 0]
        self.store.fetch([candidates.passages[i] for i in best])
        gloss = crosslingual.gloss(question, [self.store.form(candidates.passages[i]) for i in best])
        if not gloss:
            return replace(candidates, translated=False)
        glossed = normalize(f"{question} {gloss}")
        states = candidates.question_states
        if mode == "hybrid" and self._embeds_with_states():
            # The gloss's Chinese words among the question's align it with the text better than its
            # English alone: XQuAD's English questions R@1 0.932 -> 0.937, answers 0.824 -> 0.835.
            glossed_vector, states = self.embedder.embed_query_with_states(glossed)
        else:
            glossed_vector = self.embedder.embed([glossed], is_query=True)[0]
        vector = candidates.query_vector + glossed_vector
        vector = (vector / np.linalg.norm(vector)).astype(np.float32)
        timings["gloss"] = time.perf_counter() - started
        return replace(candidates, dense=self.store.dense.similarities(candidates.passages, vector), query_vector=vector, gloss=gloss, question_states=states)

    def _hit_alignment(self, aligned: QuestionAlignment, form: str, candidates: Candidates, shown: list[int], first_sentences: dict[int, list[str]]) -> list[float | None]:
        """Each shown hit's token alignment, for its confidence: of the question's own words. A
        glossed question's states (_with_gloss) align with its candidates through the gloss, which
        is made of their words: confidence read from them told English questions from off-topic
        ones less well (AUROC 0.962 -> 0.957, benchmarks/confidence.py). `first_sentences`: the
        first hits' sentences as embedded, which `aligned` was computed on."""
        if not candidates.gloss or candidates.question_states is None:
            return [aligned.passage(p) for p in shown]
        own = QuestionAlignment(self.aligner, form, self._passage_states, self.store.passage_tokens)
        own.compute(first_sentences)
        return [own.passage(p) for p in shown]

    def _without_language_bias(self, candidates: Candidates) -> Candidates:
        """A translated question's dense scores with what each sentence owes to being in the
        question's language taken off (qa.retrieve.crosslingual.language_bias): the English title
        or abstract of a Chinese document no longer outranks the Chinese sentence that answers."""
        self.store.fetch(candidates.passages, with_sentences=True)
        dense = candidates.dense.copy()
        for k, p in enumerate(candidates.passages):
            sentences = self.store.sentences(p)
            bias = crosslingual.language_bias(self.store.passage(p).title, sentences.forms)
            if bias.any():
                dense[k] = float(np.max(np.asarray(sentences.vectors, dtype=np.float32) @ candidates.query_vector - bias))
        return replace(candidates, dense=dense)

    def _doc_paths(self, where: Filter | None) -> frozenset[str] | None:
        if where is None or where.is_empty():
            return None
        return where.doc_paths(self.store.files())

    def _rerank(self, reranker: "Reranker", question: str, order: list[int], scores: np.ndarray, position: dict[int, int], top_k: int, timings: dict[str, float]):
        """Reorder the head of `order` by the reranker; hits then report the reranker's scores."""
        from .retrieve.rerank import RERANK_DEPTH

        started = time.perf_counter()
        head = order[: top_k * RERANK_DEPTH]
        self.store.fetch(head)
        reranked = reranker.score(question, [self.store.passage(p).text for p in head])
        ranking = sorted(range(len(head)), key=lambda i: -reranked[i])
        scores = scores.copy()
        for passage, value in zip(head, reranked):
            scores[position[passage]] = value
        timings["rerank"] = time.perf_counter() - started
        return [head[i] for i in ranking] + order[len(head) :], scores

    def _align(self, aligned: QuestionAlignment, order: list[int], scores: np.ndarray, position: dict[int, int], timings: dict[str, float]):
        """The best align_depth candidates re-ordered by fused score + ALIGN_WEIGHT x their best
        sentence's token alignment (qa.retrieve.align); they keep scoring above the rest."""
        started = time.perf_counter()
        head = order[: self.align_depth]
        self.store.fetch(head, with_sentences=True)
        aligned.compute({p: _embedded_sentences(self.store, p) for p in head})
        bonus = np.array([aligned.best_sentence(p, _context(self.store.passage(p))) for p in head], dtype=np.float32)
        scores = scores.copy()
        for p, value in zip(head, ALIGN_WEIGHT * (bonus - bonus.min())):
            scores[position[p]] += value
        head.sort(key=lambda p: -scores[position[p]])
        timings["align"] = time.perf_counter() - started
        return head + order[len(head) :], scores

    def sentences(self, p: int) -> Sentences:
        """Passage p's sentences: offsets, normalized texts, vectors, the vector of the sentence
        just before the passage when its paragraph goes on from there, and the paragraph's opening."""
        sentences = self.store.sentences(p)
        opening = self._paragraph_opening(p)
        # A paragraph's first sentence stands in for itself: what comes before it may be another
        # article altogether (the previous page of a PDF of several).
        return replace(
            sentences,
            previous_vector=sentences.previous_vector if opening != p else None,
            lead=opening_title(self.store.passage(opening).text),
        )

    def _paragraph_opening(self, p: int) -> int:
        """The number of the first passage of passage p's paragraph."""
        here, first = self.store.passage(p), p
        while first > 0 and (before := self.store.passage(first - 1)) is not None and (before.doc_path, before.paragraph) == (here.doc_path, here.paragraph):
            first -= 1
        return first

    def passage(self, passage_id: str) -> Passage:
        """The passage with this id (ids are shown by `qa ask` and in JSON as passage_id)."""
        number = self.store.number_of(passage_id)
        if number is None:
            raise NotFoundError(f"no passage {passage_id!r} in this index")
        return self.store.passage(number)

    def document_passages(self, doc_path: str) -> list[Passage]:
        """The passages of one indexed document, in document order."""
        numbers = self.store.document_numbers(doc_path)
        if numbers is None:
            left_out = {s.get("path"): s.get("reason") for s in self.manifest.skipped}
            if doc_path in left_out:  # a file that was there but could not be read
                raise NotFoundError(f"{doc_path} was left out when indexing: {left_out[doc_path]}")
            raise NotFoundError(f"no document {doc_path!r} in this index")
        self.store.fetch(numbers)
        return [self.store.passage(n) for n in numbers]

    def document(self, doc_path: str) -> Document:
        """The indexed document: its text as cited (extracted text for PDF and the like), pages, title."""
        self.document_passages(doc_path)  # NotFoundError for anything not indexed
        return self.store.document(doc_path)

    def document_text(self, doc_path: str) -> str:
        """The text passages of `doc_path` cite: `document_text(p.doc_path)[p.char_start:p.char_end] == p.text`.

        Only documents the index lists are known, so a path can never reach outside the corpus.
        """
        return self.document(doc_path).text

    def _surroundings(self, p: int) -> str:
        """Passage p's normalized text with its neighbours in the same file (for folding)."""
        store, here = self.store, self.store.passage(p)
        return "".join(store.form(n) for n in (p - 1, p, p + 1) if (other := store.passage(n)) is not None and other.doc_path == here.doc_path)

    def _answer(self, p: int, form: str, query_vector: np.ndarray | None, aligned: QuestionAlignment | None):
        sentences = self.sentences(p)
        matches = None if aligned is None else aligned.sentences(p)
        return pick_answer(self.store.passage(p), sentences, form, query_vector, matches)


def fuse(mode: str, dense: np.ndarray | None, lexical: np.ndarray | None, lexical_ceiling: float, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """One score per candidate.

    Hybrid: `dense_weight` times the best sentence's similarity, min-max scaled over the
    candidates (so any model's similarity scale works), plus the rest times the share of
    the question's BM25 weight that the passage matches: its score over the score of a
    passage that matched every question word once. Dividing by that ceiling rather than
    by the best candidate keeps a weak lexical match weak when nothing matches better.
    An English question over Chinese text matches only its words' dictionary translations
    (qa.retrieve.crosslingual), a weaker clue: it passes TRANSLATED_DENSE_WEIGHT.
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
        passage_id=passage.id,
        doc_path=passage.doc_path,
        paragraph=passage.paragraph,
        line_start=passage.line_start,
        line_end=passage.line_end,
        char_start=passage.char_start,
        char_end=passage.char_end,
        page=passage.page,
    )


def load_index(
    index_dir: Path | str | None = None,
    model: str | None = None,
    embedder: Embedder | None = None,
    backend: str | None = None,
    collection: str | None = None,
    aligner: Aligner | None = None,
) -> Index:
    """Open the live index: local (index_dir, or one of its named collections) or on Milvus (`backend`);
    `model`, if given, must be the one it was built with. `embedder` and `aligner`, if given, are
    used instead of loading the model's own."""
    from .storage.backend import open_store

    if model:
        engine_of(model)  # a misspelt engine is refused here as `qa index` refuses it
    store = open_store(index_dir, backend=backend, collection=collection)
    built_with = store.manifest.model
    wanted = embedder.spec if embedder is not None else (canonical_spec(model) if model else None)
    if wanted and wanted != built_with:
        raise ModelMismatchError(f"index at {store.location} was built with model {built_with!r}, not {wanted!r}", built_with=built_with, asked_for=wanted)
    return Index(store, embedder=embedder, aligner=aligner)


def _context(passage: Passage) -> str:
    """What a passage is read under, normalized as questions are: its document's title and its headings."""
    return normalize(f"{passage.title} {passage.section}")


def _embedded_sentences(store, p: int) -> list[str]:
    """Passage p's sentences as the build embedded them (with their context): what token
    alignment reads where the index kept no token states."""
    passage = store.passage(p)
    return [chunker.embedding_text(passage, form) for form in store.sentences(p).forms]


def _bounded(question: str) -> tuple[str, str]:
    """The question (SearchRequest keeps it within MAX_QUESTION_CHARS) and its normalized form,
    both cut until the form fits too: NFKC can make one character eighteen (U+FDFA), and the
    encoder's time grows with the form."""
    form = normalize(question)
    while len(form) > MAX_QUESTION_CHARS:
        question = question[: len(question) * MAX_QUESTION_CHARS // len(form)]
        form = normalize(question)
    return question, form
