"""Picking the sentence of a passage that best answers the question."""

from __future__ import annotations

import numpy as np

from .models import Answer, Passage
from .normalize import normalize

# Weight of the question's character-bigram overlap next to the sentence's cosine
# similarity (chosen on CMRC2018; see benchmarks/cmrc2018.py).
OVERLAP_WEIGHT = 0.3


def bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i : i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def pick_answer(
    passage: Passage,
    spans: list[tuple[int, int]],
    question_form: str,
    similarities: np.ndarray | None,
) -> Answer | None:
    """Best of `spans` (absolute offsets in the passage's file) by similarity plus word overlap."""
    if not spans:
        return None
    question_grams = bigrams(question_form)
    best: tuple[float, int] | None = None
    for i, (start, end) in enumerate(spans):
        text = passage.text[start - passage.char_start : end - passage.char_start]
        grams = bigrams(normalize(text))
        overlap = len(question_grams & grams) / max(len(question_grams), 1)
        score = OVERLAP_WEIGHT * overlap + (float(similarities[i]) if similarities is not None else 0.0)
        if best is None or score > best[0]:
            best = (score, i)
    score, i = best
    start, end = spans[i]
    return Answer(text=passage.text[start - passage.char_start : end - passage.char_start], char_start=start, char_end=end, score=score)
