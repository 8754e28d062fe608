"""How likely a hit is to answer the question: a small logistic model over signals with absolute meaning.

Fused scores are scaled within each query, so the top hit looks confident whatever it is.
These signals are not: the raw cosine of the best sentence, how far it stands above the
other candidates, the share of the question's words the passage matches, and the answer
sentence's score. The weights were fitted by benchmarks/confidence.py (answerable questions
against the same questions asked of an index without their paragraph, and off-topic
questions; figures on a held-out split in its output) for the default model: with another
embedding model the cosines mean something else, and the confidence is rough.
"""

from __future__ import annotations

import numpy as np

from ..retrieve.crosslingual import foreign_share

FEATURES = (
    "cosine",  # the hit's best sentence's cosine with the question
    "cosine_over_pool",  # that cosine minus the median over all candidates
    "cosine_margin",  # that cosine minus the best other candidate's
    "lexical_share",  # BM25 score over the score of a passage matching every question word
    "lexical_margin",  # that share minus the best other candidate's
    "answer",  # the answer sentence's score (qa.answer.picker)
    "latin",  # share of the question's letters in other scripts than Chinese: Latin, Cyrillic … (its words can't match Chinese text)
    "coverage",  # share of the question's words (translated ones: of their translations) the collection has
    # The same signals for a question in another script than Chinese text's mean other things:
    # its cosines run lower, and its lexical leg matches dictionary translations (English) or
    # nothing. These let the model weigh them apart (they are the signal times `latin`).
    "latin_cosine",
    "latin_cosine_margin",
    "latin_lexical_share",
    # How much of the question the passage answers token by token (qa.retrieve.align; hybrid search's
    # first hits), in any language: the word-level signal a question in a script the
    # dictionary does not cover still has. 0 where no alignment ran.
    "aligned",
    "latin_aligned",
)
# Fitted by benchmarks/confidence.py, per mode (a leg that did not run weighs 0). Held-out
# (hybrid): AUROC 0.990 against off-topic questions, 0.950 against in-domain ones. The dense
# and lexical models predate the last six features (fitted without them; --modes to refit).
WEIGHTS = {
    "hybrid": np.array([14.32, 44.54, -6.932, 1.219, 1.003, -0.08855, 0.5331, 1.975, 0.2284, 47.58, 0.4467, 14.18, 1.527]),
    "dense": np.array([6.237, 73.61, 13.76, 0, 0, 0.3423, 1.686, 0, 0, 0, 0, 0, 0]),
    "lexical": np.array([0, 0, 0, 4.001, 2.734, 0.2579, -0.9115, 0, 0, 0, 0, 0, 0]),
}
BIAS = {"hybrid": -25.17, "dense": -23.61, "lexical": -4.82}
# Below this confidence of the top hit, no passage seems to answer: the confidence below which
# 3% of the fit part's answerable questions fall (benchmarks/confidence.py). Low, because most
# hits (ranks 2-3, and every hit of an unanswerable question) answer nothing.
THRESHOLD = {"hybrid": 0.073, "dense": 0.029, "lexical": 0.030}

def hit_features(
    rows: list[int],
    dense: np.ndarray | None,
    lexical_share: np.ndarray | None,
    answer_scores: list[float],
    question: str,
    coverage: float = 0.0,
    aligned: list[float | None] | None = None,
) -> np.ndarray:
    """One row of FEATURES per hit; `rows` are the hits' positions among the candidates,
    whose dense cosines and lexical shares are given (None for a leg that did not run);
    `coverage` is the lexical leg's for the question (LexicalFound.coverage); `aligned`, each
    hit's token alignment with the question (None where none ran)."""
    features = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
    for n, i in enumerate(rows):
        if dense is not None and len(dense):
            others = np.delete(dense, i)
            features[n, 0] = dense[i]
            features[n, 1] = dense[i] - float(np.median(dense))
            features[n, 2] = dense[i] - (float(others.max()) if len(others) else 0.0)
        if lexical_share is not None and len(lexical_share):
            others = np.delete(lexical_share, i)
            features[n, 3] = lexical_share[i]
            features[n, 4] = lexical_share[i] - (float(others.max()) if len(others) else 0.0)
        features[n, 5] = answer_scores[n]
        features[n, 6] = foreign_share(question)
        features[n, 7] = coverage
        if aligned is not None and aligned[n] is not None:
            features[n, 11] = aligned[n]
    features[:, [8, 9, 10, 12]] = features[:, [0, 2, 3, 11]] * features[:, 6:7]
    return features


def confidence(features: np.ndarray, mode: str) -> np.ndarray:
    """The probability that each hit answers the question."""
    z = features @ WEIGHTS[mode] + BIAS[mode]
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


def is_answered(hits, mode: str = "hybrid") -> bool:
    """Whether the top hit seems to answer the question at all."""
    return bool(hits) and hits[0].confidence is not None and hits[0].confidence >= THRESHOLD[mode]
