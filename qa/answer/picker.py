"""Picking the sentence (or two adjacent sentences) of a passage that best answers the question.

Each sentence gets a few signals (FEATURES) and scores as their weighted sum; the
weights were fitted on CMRC2018 by benchmarks/answer_weights.py (a softmax over the
sentences of each top hit, the gold sentence being the one holding the answer).
"""

from __future__ import annotations

import functools
import math
import re
from difflib import SequenceMatcher
from itertools import pairwise

import numpy as np

from ..ingest.normalize import normalize
from ..models import Answer, Passage, Sentences
from ..retrieve.align import SentenceMatches

FEATURES = (
    "similarity",  # cosine of the question and the sentence
    "previous",  # cosine of the question and the sentence before it (itself if it opens the document)
    "focus_tokens",  # share of the question's focus tokens in the sentence, rarer ones weighing more
    "focus_bigrams",  # the same for adjacent pairs of focus tokens
    "number",  # the question asks for a quantity and the sentence has a number
    "date",  # the question asks for a time and the sentence has a date
    # Token alignment (qa.retrieve.align; 0 where none ran), the question in two parts:
    "focus_aligned",  # its focus tokens' best similarity in the sentence, rarer ones and ones fewer sentences match weighing more
    "asked_aligned",  # its question words' (什么, 谁, 哪, when …): their best match is often the answer, a name or a place
)
# Fitted by benchmarks/answer_weights.py on CMRC2018 (2-fold cross-validated figures in its output).
# The positive weight on `previous` says what reading the misses showed: the answer often
# follows the sentence that echoes the question.
WEIGHTS = np.array([23.9, 12.6, 3.8, -0.3, 1.6, 2.3, 14.0, 9.8], dtype=np.float32)
# For a passage no alignment ran on (dense or lexical search, hits past the aligned head):
# the same fit without the two alignment features, which then weighs the others more.
UNALIGNED_WEIGHTS = np.array([27.0, 12.0, 6.4, 3.1, 2.0, 3.0, 0.0, 0.0], dtype=np.float32)
# A neighbour whose score is within this margin of the best joins it (a margin of 1 is a
# neighbour at least e^-1 times as likely as the best): the answer often sits in the
# sentence next to the one that echoes the question.
PAIR_MARGIN = 1.0
# A longer answer (a run-on headline, a sentence of many clauses) is narrowed to the
# clauses that answer: a highlight is read at a glance.
NARROW_CHARS = 120
# ... but only when the clauses it keeps clearly answer better than those it drops: the best
# clause left out must score this far below the best one kept. Otherwise the whole answer
# stays: a longer highlight is better than one that cut the answer away.
NARROW_MARGIN = 1.0
# A sentence this short without a statement's punctuation is a label (see _is_label).
LABEL_CHARS = 40
_STATEMENT_MARK = re.compile(r"[。！？!?；;，,]|\.$")
# A highlight that introduces a list or a table goes on through it (enumerated items, lines of
# this many characters at most that end no sentence) up to LIST_CHARS; narrowing may then keep
# the items that answer.
LIST_CHARS, LIST_LINE_CHARS = 300, 80
_SENTENCE_MARK = re.compile(r"[。！？!?]")
_CAPTION = re.compile(r"(?:续?表|Table)\s*[0-9A-Z]")
_ITEM = re.compile(r"\s*(?:[a-zA-Z0-9]{1,2}[)）.、]|[(（][a-zA-Z0-9一二三四五六七八九十]{1,3}[)）]|[①-⑳]|[-•·*]\s)")
# Where a sentence divides into clauses; enumeration commas only when a clause is still too long.
_CLAUSE_END = re.compile(r"[，；;：\n]")
_ENUMERATION = re.compile(r"[、]")

# CJK characters one by one (no spaces to tell words apart), other words and numbers whole.
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_NUMBER_QUESTION = re.compile(
    r"多少|几[个位名种次岁天倍部首条家所座项层届场]|多[大长高重远久深宽厚]|人口|面积|数量|比例|百分|"
    r"how (?:many|much|long|old|far|big|tall)|percentage"
)
_DATE_QUESTION = re.compile(r"何时|哪一?年|哪个?月|哪一?天|什么时[候间]|时间|日期|年份|年代|when\b|what year|which year")
# Question words, as the encoder's vocabulary cuts them (what "asked_aligned" aligns; left out of the focus).
_ASKING = re.compile(r"什么|谁|哪|几|多少|何|怎|吗|呢|多[大长高重远久]|^(?:what|who|whom|whose|when|where|which|why|how)$")
# A question token matches a sentence where its best similarity reaches this; a token most
# sentences match (the subject's name under another spelling) tells them apart less.
MATCHED = 0.85
# A question token whose best match in the whole passage is weak (a word the passage does not
# use) says nothing about which sentence answers: it counts as far as that match rises above
# MATCH_FLOOR, fully from MATCH_FULL on.
MATCH_FLOOR, MATCH_FULL = 0.5, 0.8
_NUMBER = re.compile(r"\d")
_DATE = re.compile(r"\d\s*[年月日]|世纪|年代|\b1\d{3}\b|\b20\d{2}\b")


@functools.lru_cache(maxsize=64)  # one question meets one subject in every sentence and clause scored
def focus(question_form: str, subject_form: str) -> str:
    """The question with what it shares with the passage's subject blanked out (`|`).

    The subject's name is in the question and in the sentence introducing it, while
    the answer usually sits in a later sentence that says 它 or 本鱼: matching the
    rest of the question ("的卵有什么特征") is what finds that one.
    """
    chars = list(question_form)
    while True:
        text = "".join(chars)
        match = SequenceMatcher(None, text, subject_form, autojunk=False).find_longest_match(0, len(text), 0, len(subject_form))
        if match.size < 2:
            return text
        chars[match.a : match.a + match.size] = "|" * match.size


def subject(passage: Passage, lead: str) -> str:
    """Who or what the passage is about: its document's title, its section, and the opening of
    its paragraph — which is the one that names it when a file holds unrelated paragraphs (a PDF
    of several articles shares one title)."""
    lead = "" if lead == passage.title else lead
    return " ".join(part for part in (passage.title, lead, passage.section) if part)


def tokens(form: str) -> list[list[str]]:
    """Runs of tokens, split where punctuation (or what focus() blanked) falls between them."""
    return [found for run in re.split(r"[^\w\s]+|_", form) if (found := _TOKEN.findall(run))]


def _bigrams(runs: list[list[str]]) -> set[str]:
    return {a + b for run in runs for a, b in pairwise(run)}


def _rarity_overlap(wanted: set[str], found: list[set[str]]) -> np.ndarray:
    """For each sentence, its share of `wanted`, each item weighted by how few sentences have it."""
    n = len(found)
    weight = {item: math.log((n + 1) / (sum(item in s for s in found) + 0.5)) for item in wanted}
    total = sum(weight.values()) or 1.0
    return np.array([sum(weight[item] for item in wanted & s) / total for s in found], dtype=np.float32)


def sentence_features(passage: Passage, sentences: Sentences, question_form: str, query_vector: np.ndarray | None, matches: SentenceMatches | None = None) -> np.ndarray:
    """One row of FEATURES per sentence; `matches`, how the question's tokens match each sentence."""
    n = len(sentences.forms)
    features = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if query_vector is not None and sentences.vectors is not None:
        vectors = np.asarray(sentences.vectors, dtype=np.float32)
        # Nothing comes before the document's first sentence: it stands in for itself.
        first = vectors[:1] if sentences.previous_vector is None else np.asarray(sentences.previous_vector, dtype=np.float32)[None, :]
        before = np.vstack([first, vectors[:-1]])
        features[:, 0] = vectors @ query_vector
        features[:, 1] = before @ query_vector
    focus_form = focus(question_form, normalize(subject(passage, sentences.lead)))
    runs = tokens(focus_form)
    sentence_runs = [tokens(form) for form in sentences.forms]
    features[:, 2] = _rarity_overlap({t for run in runs for t in run}, [{t for run in s for t in run} for s in sentence_runs])
    features[:, 3] = _rarity_overlap(_bigrams(runs), [_bigrams(s) for s in sentence_runs])
    if _NUMBER_QUESTION.search(question_form):
        features[:, 4] = [bool(_NUMBER.search(form)) for form in sentences.forms]
    if _DATE_QUESTION.search(question_form):
        features[:, 5] = [bool(_DATE.search(form)) for form in sentences.forms]
    if matches is not None:
        features[:, 6:8] = aligned_features(matches, question_form, focus_form)
    return features


def aligned_features(matches: SentenceMatches, question_form: str, focus_form: str) -> np.ndarray:
    """(sentences, 2): the weighted mean best similarity of the question's focus tokens (outside
    what focus() blanked, not question words) and of its question words, each token counting
    as far as the passage has a match for it."""
    question, best = matches.question, matches.best
    words = [piece.replace("▁", "") for piece in question.pieces]
    asking = np.array([bool(_ASKING.search(word.lower())) for word in words])
    blanked = _blanked(words, question_form, focus_form)
    sentences = best.shape[1]
    matched_in = (best >= MATCHED).sum(axis=1)
    focus_weights = question.weights * ~asking * ~blanked * np.log((sentences + 1) / (matched_in + 0.5))
    evidence = np.clip((best.max(axis=1) - MATCH_FLOOR) / (MATCH_FULL - MATCH_FLOOR), 0.0, 1.0)
    out = np.zeros((sentences, 2), dtype=np.float32)
    for column, weights in enumerate((focus_weights, question.weights * asking)):
        if weights.sum() > 0:
            out[:, column] = (weights * evidence) @ best / weights.sum()
    return out


def _blanked(words: list[str], question_form: str, focus_form: str) -> np.ndarray:
    """For each token's text, whether focus() blanked it: found in order in the question form,
    and `|` all along its place in the focus form (a token not found counts as not blanked)."""
    out = np.zeros(len(words), dtype=bool)
    at = 0
    for i, word in enumerate(words):
        start = question_form.find(word, at) if word else -1
        if start >= 0:
            out[i] = set(focus_form[start : start + len(word)]) == {"|"}
            at = start + len(word)
    return out


def pick_answer(passage: Passage, sentences: Sentences, question_form: str, query_vector: np.ndarray | None, matches: SentenceMatches | None = None) -> Answer | None:
    """The best sentence, joined by its better neighbour when that one scores nearly as well, and by
    what it introduces: a label's next sentence, a lead-in's or a caption's list or table."""
    if not sentences.spans:
        return None
    weights = UNALIGNED_WEIGHTS if matches is None else WEIGHTS
    scores = sentence_features(passage, sentences, question_form, query_vector, matches) @ weights
    chosen = choose(scores)
    spans = sentences.spans
    last = max(chosen)
    if last + 1 < len(spans) and _is_label(passage, spans[last]):
        last += 1
    start = min(spans[i][0] for i in chosen)
    # A list or table the highlight introduces goes on with it, sentence by sentence, while room remains.
    if _opens_list(_lines(passage, spans[last])):
        while last + 1 < len(spans) and spans[last + 1][1] - start <= LIST_CHARS and all(map(_is_list_line, _lines(passage, spans[last + 1]))):
            last += 1
    end = spans[last][1]
    if end - start > NARROW_CHARS:
        start, end = narrow(passage, sentences.lead, start, end, question_form, weights)
    offset = passage.char_start
    return Answer(text=passage.text[start - offset : end - offset], char_start=start, char_end=end, score=float(scores[chosen[0]]))


def _lines(passage: Passage, span: tuple[int, int]) -> list[str]:
    """The text of a span of the passage, line by line, without blank lines."""
    return [line.strip() for line in passage.text[span[0] - passage.char_start : span[1] - passage.char_start].splitlines() if line.strip()]


def _opens_list(lines: list[str]) -> bool:
    """Whether a sentence's lines end by introducing a list or a table: a lead-in ("有下列情况之一的
    应进行型式检验：") or a table's caption ("表 3 理化指标"), then nothing but the list's first lines."""
    for k in range(len(lines) - 1, -1, -1):
        if lines[k].endswith(("：", ":")) or _CAPTION.match(lines[k]):
            return True
        if not _is_list_line(lines[k]):
            return False
    return False


def _is_list_line(line: str) -> bool:
    """A list's item ("a）新产品投产；", "• …") or a line that ends no sentence (a table's row, an item of a few words)."""
    return bool(_ITEM.match(line)) or (len(line) <= LIST_LINE_CHARS and not _SENTENCE_MARK.search(line))


def _is_label(passage: Passage, span: tuple[int, int]) -> bool:
    """A heading, a term being defined or a lead-in ("碱消值 alkali spreading value", "5.1 水源",
    "基础方剂："): a short line that says what comes next without saying it. Its next sentence
    joins the highlight, which then holds what the label introduces."""
    text = passage.text[span[0] - passage.char_start : span[1] - passage.char_start].strip()
    return text.endswith(("：", ":")) or (len(text) <= LABEL_CHARS and not _STATEMENT_MARK.search(text))


def narrow(passage: Passage, lead: str, start: int, end: int, question_form: str, weights: np.ndarray) -> tuple[int, int]:
    """The run of clauses within [start, end) that best matches the question, NARROW_CHARS at most;
    [start, end) itself where no run clearly does.

    Clauses are scored by the sentence features that need no vectors (focus words, numbers,
    dates); the window whose clauses score highest in sum wins, and then takes in the clauses
    after it, then before it, while room remains: the answer often follows the clause that
    echoes the question, and a fuller highlight is read as easily.
    """
    offset = passage.char_start
    text = passage.text[start - offset : end - offset]
    pieces = _clauses(text)
    if len(pieces) < 2:
        return start, end
    forms = [normalize(text[a:b]) for a, b in pieces]
    clauses = Sentences(spans=[(start + a, start + b) for a, b in pieces], forms=forms, lead=lead)
    scores = sentence_features(passage, clauses, question_form, None) @ weights
    best, best_score = (int(np.argmax(scores)),) * 2, float("-inf")
    for i in range(len(pieces)):
        total = 0.0
        for j in range(i, len(pieces)):
            if pieces[j][1] - pieces[i][0] > NARROW_CHARS:
                break
            total += float(scores[j])
            if total > best_score:
                best, best_score = (i, j), total
    first, last = best
    while last + 1 < len(pieces) and pieces[last + 1][1] - pieces[first][0] <= NARROW_CHARS:
        last += 1
    while first > 0 and pieces[last][1] - pieces[first - 1][0] <= NARROW_CHARS:
        first -= 1
    left_out = [float(x) for k, x in enumerate(scores) if not first <= k <= last]
    if left_out and max(left_out) > float(scores[first : last + 1].max()) - NARROW_MARGIN:
        return start, end
    a, b = _trim_clause(text, pieces[first][0], pieces[last][1])
    return start + a, start + b


def _clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of `text`; a clause still too long splits at enumeration commas."""
    pieces: list[tuple[int, int]] = []
    for a, b in _split_after(text, 0, len(text), _CLAUSE_END):
        pieces.extend(_split_after(text, a, b, _ENUMERATION) if b - a > NARROW_CHARS else [(a, b)])
    return pieces


def _split_after(text: str, start: int, end: int, marks: re.Pattern) -> list[tuple[int, int]]:
    cuts = [m.end() for m in marks.finditer(text, start, end)]
    bounds = [start, *(c for c in cuts if start < c < end), end]
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def _trim_clause(text: str, start: int, end: int) -> tuple[int, int]:
    """Without the clause mark it ends on, or spaces around it."""
    while end > start and (text[end - 1].isspace() or _CLAUSE_END.match(text[end - 1]) or _ENUMERATION.match(text[end - 1])):
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def choose(scores: np.ndarray, margin: float | None = None) -> list[int]:
    """The best sentence, then its better neighbour if that one is within `margin` (PAIR_MARGIN)."""
    margin = PAIR_MARGIN if margin is None else margin
    best = int(np.argmax(scores))
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(scores)]
    if neighbours:
        other = max(neighbours, key=lambda i: scores[i])
        if scores[other] >= scores[best] - margin:
            return [best, other]
    return [best]
