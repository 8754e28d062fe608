"""Token alignment: a second, word-by-word look at the best few candidates.

The dense leg gives each sentence one vector, and one vector keeps the topic better than
the details: two paragraphs of one article look alike to it, and an English question's
"Broncos" or "Steelers" weigh little beside "Super Bowl", which both paragraphs name. The
encoder's token states keep the words apart, and a multilingual encoder's are aligned across
languages. So each question token finds its most similar token in a passage, and the mean
of those best similarities, each weighted by how rare the question token is, says how much
of the question the passage answers word by word; by where its matches fall, it says the
same of each of the passage's sentences.

Re-ordering hybrid fusion's best ALIGN_DEPTH by fused score + ALIGN_WEIGHT x alignment,
measured in one session (benchmarks/crosslingual.py, cmrc2018.py): Recall@1 of English
questions over XQuAD's Chinese paragraphs 0.894 -> 0.923, of the same questions in Chinese
0.962 -> 0.973, CMRC2018 0.9863 -> 0.9876. Depth 2-5 and weight 2-4 all land within 0.003
of these.

A passage re-orders by its best sentence's alignment (sentence_alignment), not by its tokens
wherever they fall: a long passage matched the question's words scattered over several
sentences as well as another matched them in the one sentence that answers. With that, a
deeper head pays where the build kept the passages' tokens (a matrix product each, no
encoder pass); benchmarks/guard.py, against whole-passage alignment of the best 3:
XQuAD R@1 English 0.924 -> 0.932, Chinese 0.968 -> 0.981; the seed set 0.859 -> 0.897;
real documents' hit@1 0.827 -> 0.840; CMRC2018 0.9879 -> 0.9888. Depth 8 and 12 gave the
same figures, 5 a little less on the real documents.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..models import TokenStates

ALIGN_DEPTH = 8  # the best fused candidates that are aligned and re-ordered, from tokens the build kept
# ... where the store keeps no tokens (Milvus) and each aligned passage costs an encoder pass.
ENCODED_ALIGN_DEPTH = 3
ALIGN_WEIGHT = 3.0  # the alignment's weight beside the fused score (which spans about 0-1)
# A question token spelled out in a passage's title or headings matches this well: as a word the
# passage says in other words, not as the word itself, so a document whose title happens to
# share a question's words does not outrank one that answers. Measured (realdocs, the seed
# set): 0.85-0.98 give the same figures within a question; 1.0 lost seed questions to other
# speeches whose headlines share their words.
CONTEXT_MATCH = 0.9
PASSAGES_KEPT = 64  # passages whose token states an index keeps across questions (~0.4 MB each)


@dataclass(frozen=True)
class SentenceMatches:
    """How a question's tokens match each sentence of a passage."""

    question: TokenStates
    best: np.ndarray  # (question tokens, sentences): a token's best similarity to one of the sentence's


class Aligner(Protocol):
    def token_states(self, texts: list[list[str]], is_query: bool = False) -> list[TokenStates]: ...
    def states_of(self, ids: np.ndarray, vectors: np.ndarray, parts: np.ndarray) -> TokenStates: ...


def part_matches(question: TokenStates, passage: TokenStates, parts: int) -> np.ndarray:
    """(question tokens, `parts`): each question token's best similarity to a token of each of
    the passage's parts (0 for a part without tokens)."""
    out = np.zeros((len(question.vectors), parts), dtype=np.float32)
    if len(passage.vectors) == 0:
        return out
    vectors, numbers = passage.vectors, passage.parts
    if np.any(numbers[1:] < numbers[:-1]):  # tokens come part by part, but need not
        order = np.argsort(numbers, kind="stable")
        vectors, numbers = vectors[order], numbers[order]
    inside = numbers < parts
    if not inside.all():
        vectors, numbers = vectors[inside], numbers[inside]
    if len(numbers) == 0:
        return out
    similarity = question.vectors @ vectors.T
    # One maximum per run of a part's tokens, where a loop over parts took a mask each.
    starts = np.flatnonzero(np.diff(numbers, prepend=-1))
    present = numbers[starts]
    out[:, present] = np.maximum.reduceat(similarity, starts, axis=1)
    return out


def alignment(question: TokenStates, best: np.ndarray, context: str = "") -> float:
    """The weighted mean over question tokens of their best similarity to any token of a passage,
    from `best` (part_matches of its sentences); a token the passage's `context` (its document's
    title, its headings) spells out counts as a close match (CONTEXT_MATCH): a passage under
    "地理标志产品射阳大米 › 7.5 型式检验" need not say 射阳大米 again, and a scope clause that lists
    every topic of the standard no longer outranks it for naming the product."""
    if question.weights.sum() <= 0 or best.size == 0:
        return 0.0
    return float(question.weights @ _with_context(question, best.max(axis=1), context)) / float(question.weights.sum())


def sentence_alignment(question: TokenStates, best: np.ndarray, context: str = "") -> float:
    """alignment() of a passage's best-aligned sentence, from `best` (part_matches of its
    sentences): the question's words matched in one sentence, not scattered over the passage
    ("互联网企业要承担什么责任" is answered by "要压实互联网企业的主体责任", not by a paragraph that names
    互联网 in one sentence and 企业 and 责任 in others)."""
    if question.weights.sum() <= 0 or best.size == 0:
        return 0.0
    return float((question.weights @ _with_context(question, best, context)).max()) / float(question.weights.sum())


def _with_context(question: TokenStates, best: np.ndarray, context: str) -> np.ndarray:
    """`best` (a row per question token) raised to CONTEXT_MATCH for the tokens `context` spells out."""
    if not context or len(question.pieces) != len(best):
        return best
    spelled = np.array([bool(word) and word in context for word in (piece.strip("▁") for piece in question.pieces)])
    spelled = spelled.reshape(-1, *([1] * (best.ndim - 1)))  # one per row, whatever the columns
    return np.where(spelled, np.maximum(best, CONTEXT_MATCH), best)


class PassageStates:
    """The token states of the passages an index was last asked about (the PASSAGES_KEPT most
    recently used), kept across questions: a question about passages a recent one looked at
    skips the encoder for them. Shared by a server's threads."""

    def __init__(self, limit: int = PASSAGES_KEPT):
        self._limit = limit
        self._states: OrderedDict[int, TokenStates] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, p: int) -> TokenStates | None:
        with self._lock:
            states = self._states.get(p)
            if states is not None:
                self._states.move_to_end(p)
            return states

    def put(self, p: int, states: TokenStates) -> None:
        with self._lock:
            self._states[p] = states
            self._states.move_to_end(p)
            while len(self._states) > self._limit:
                self._states.popitem(last=False)


class QuestionAlignment:
    """One question's token alignment with the passages a search looks at, each passage matched
    once (for re-ordering, then for its confidence and answer sentence), from its tokens as
    the index kept them, as `kept` holds them across questions, or as the encoder gives them."""

    def __init__(
        self,
        aligner: Aligner,
        question_form: str,
        kept: PassageStates | None = None,
        stored: Callable[[int], tuple | None] | None = None,
        question: TokenStates | None = None,
    ):
        """`stored(p)`: passage p's tokens as its index kept them (ids, vectors, parts), or None.
        `question`: the question's token states where the search already has them (from the pass
        that embedded it); else the aligner computes them."""
        self._aligner = aligner
        self._kept = kept if kept is not None else PassageStates()
        self._stored = stored or (lambda p: None)
        self.question = question if question is not None else aligner.token_states([[question_form]], is_query=True)[0]
        self._matches: dict[int, SentenceMatches] = {}

    def compute(self, sentences: dict[int, list[str]]) -> None:
        """How the question matches each sentence of passages (number -> its sentences' texts) not
        yet computed, from their token states: as the index kept them, or else through the encoder.
        Only the matches are held: a passage's states take 1.5 KB a token, its matches a few hundred bytes."""
        missing = []
        for p in sentences:
            if p in self._matches:
                continue
            if (states := self._kept.get(p)) is None and (tokens := self._stored(p)) is not None:
                states = self._aligner.states_of(*tokens)
            if states is None:
                missing.append(p)
            else:
                self._match(p, states, len(sentences[p]))
        if not missing:
            return
        for p, states in zip(missing, self._aligner.token_states([sentences[p] for p in missing])):
            self._kept.put(p, states)
            self._match(p, states, len(sentences[p]))

    def _match(self, p: int, states: TokenStates, count: int) -> None:
        self._matches[p] = SentenceMatches(self.question, part_matches(self.question, states, count))

    def sentences(self, p: int) -> SentenceMatches | None:
        """How the question matches each of passage p's sentences; None if p was not computed.
        Re-ordering, the hit's confidence and picking its answer all read these."""
        return self._matches.get(p)

    def passage(self, p: int, context: str = "") -> float | None:
        """Passage p's alignment() (its best token anywhere for each question token); None if p
        was not computed."""
        matches = self.sentences(p)
        return None if matches is None else alignment(self.question, matches.best, context)

    def best_sentence(self, p: int, context: str = "") -> float | None:
        """Passage p's sentence_alignment(); None if p was not computed."""
        matches = self.sentences(p)
        return None if matches is None else sentence_alignment(self.question, matches.best, context)
