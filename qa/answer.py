"""Picking the sentence (or two adjacent sentences) of a passage that best answers the question."""

from __future__ import annotations

import math

import numpy as np

from .models import Answer, Passage

# Chosen on CMRC2018 (benchmarks/fusion_sweep.py --answers): the sentence's cosine
# similarity plus OVERLAP_WEIGHT times its share of the question's characters, each
# character weighted by how rare it is among the passage's sentences, since the words
# every sentence shares (the subject's name) say nothing about which one answers.
OVERLAP_WEIGHT = 0.3
# A neighbouring sentence scoring within this margin of the best joins it: the answer
# often sits in the sentence next to the one that echoes the question.
PAIR_MARGIN = 0.1


def characters(text: str) -> set[str]:
    return {ch for ch in text if ch.isalnum()}


def sentence_scores(span_forms: list[str], question_form: str, similarities: np.ndarray | None) -> np.ndarray:
    question = characters(question_form)
    sets = [characters(form) for form in span_forms]
    n = len(sets)
    weight = {ch: math.log((n + 1) / (sum(ch in s for s in sets) + 0.5)) for ch in question}
    total = sum(weight.values()) or 1.0
    overlap = np.array([sum(weight[ch] for ch in question & s) / total for s in sets], dtype=np.float32)
    base = similarities.astype(np.float32) if similarities is not None else np.zeros(n, dtype=np.float32)
    return base + OVERLAP_WEIGHT * overlap


def pick_answer(
    passage: Passage,
    spans: list[tuple[int, int]],
    span_forms: list[str],
    question_form: str,
    similarities: np.ndarray | None,
) -> Answer | None:
    """Best of `spans` (absolute offsets in the passage's file; `span_forms` their normalized
    texts), joined by its better neighbour when that one scores nearly as well."""
    if not spans:
        return None
    scores = sentence_scores(span_forms, question_form, similarities)
    best = int(np.argmax(scores))
    chosen = [best]
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(spans)]
    if neighbours:
        other = max(neighbours, key=lambda i: scores[i])
        if scores[other] >= scores[best] - PAIR_MARGIN:
            chosen.append(other)
    start = min(spans[i][0] for i in chosen)
    end = max(spans[i][1] for i in chosen)
    offset = passage.char_start
    return Answer(text=passage.text[start - offset : end - offset], char_start=start, char_end=end, score=float(scores[best]))
