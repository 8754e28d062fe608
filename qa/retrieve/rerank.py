"""Optional reranking of the fused candidates by a cross-encoder.

A reranker has one method, `score(question, texts) -> list[float]` (higher is better).
`st:NAME_OR_PATH` loads a sentence-transformers CrossEncoder; no multilingual one can
be installed here, so it is off by default and tested with a fake scorer.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import UnknownModelError

RERANK_DEPTH = 4  # rerank top_k * RERANK_DEPTH candidates


class Reranker(Protocol):
    def score(self, question: str, texts: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    def __init__(self, spec: str):
        from ..embedding.embedders import load_sentence_transformers

        self._model = load_sentence_transformers("CrossEncoder", spec.split(":", 1)[1], "cross-encoder")

    def score(self, question: str, texts: list[str]) -> list[float]:
        return [float(s) for s in self._model.predict([(question, text) for text in texts])]


def load_reranker(spec: str) -> Reranker:
    if spec.startswith("st:") and len(spec) > 3:
        return CrossEncoderReranker(spec)
    raise UnknownModelError(f"unknown reranker {spec!r}: use 'st:NAME_OR_PATH' (a sentence-transformers cross-encoder)")
