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
of these. It costs the question and three passages through the encoder: a question takes
~160 ms on one core where it took ~27 ms.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..models import TokenStates

ALIGN_DEPTH = 3  # the best fused candidates that are aligned and re-ordered
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
    similarity = question.vectors @ passage.vectors.T
    for part in range(parts):
        inside = passage.parts == part
        if inside.any():
            out[:, part] = similarity[:, inside].max(axis=1)
    return out


def alignment(question: TokenStates, passage: TokenStates, context: str = "") -> float:
    """The weighted mean over question tokens of their best similarity to any passage token; a
    token the passage's `context` (its document's title, its headings) spells out counts as a
    close match (CONTEXT_MATCH): a passage under "地理标志产品射阳大米 › 7.5 型式检验" need not
    say 射阳大米 again, and a scope clause that lists every topic of the standard no longer
    outranks it for naming the product."""
    if question.weights.sum() <= 0 or len(passage.vectors) == 0:
        return 0.0
    best = (question.vectors @ passage.vectors.T).max(axis=1)
    if context and len(question.pieces) == len(best):
        spelled = np.array([bool(word) and word in context for word in (piece.strip("▁") for piece in question.pieces)])
        best = np.where(spelled, np.maximum(best, CONTEXT_MATCH), best)
    return float(question.weights @ best) / float(question.weights.sum())


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
    """One question's token alignment with the passages a search looks at, each passage's
    tokens computed once (for re-ordering, then for picking the answer sentence), or taken
    from `kept` (the index's, across questions)."""

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
        self._passages: dict[int, TokenStates] = {}

    def compute(self, sentences: dict[int, list[str]]) -> None:
        """The token states of passages (number -> its sentences' texts) not yet computed: as the
        index kept them, or else through the encoder."""
        for p in sentences:
            if p in self._passages:
                continue
            if (states := self._kept.get(p)) is not None:
                self._passages[p] = states
            elif (tokens := self._stored(p)) is not None:
                self._passages[p] = self._aligner.states_of(*tokens)
        missing = [p for p in sentences if p not in self._passages]
        if not missing:
            return
        for p, states in zip(missing, self._aligner.token_states([sentences[p] for p in missing])):
            self._passages[p] = states
            self._kept.put(p, states)

    def passage(self, p: int, context: str = "") -> float | None:
        """Passage p's alignment (see alignment() for `context`); None if p was not computed."""
        return alignment(self.question, self._passages[p], context) if p in self._passages else None

    def sentences(self, p: int, count: int) -> SentenceMatches | None:
        """How the question matches each of passage p's `count` sentences; None if p was not computed."""
        if p not in self._passages:
            return None
        return SentenceMatches(self.question, part_matches(self.question, self._passages[p], count))
