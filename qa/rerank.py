"""Optional reranking of the fused candidates by a cross-encoder.

A reranker has one method, `score(question, texts) -> list[float]` (higher is better).
`st:NAME_OR_PATH` loads a sentence-transformers CrossEncoder; no multilingual one can
be installed here, so it is off by default and tested with a fake scorer.
"""

from __future__ import annotations

import os
from typing import Protocol

from .errors import QAError

RERANK_DEPTH = 4  # rerank top_k * RERANK_DEPTH candidates


class Reranker(Protocol):
    def score(self, question: str, texts: list[str]) -> list[float]: ...


class CrossEncoderReranker:
    def __init__(self, spec: str):
        name = spec.split(":", 1)[1]
        if os.path.isdir(name):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import CrossEncoder
        except ImportError:
            raise QAError("--rerank needs sentence-transformers: pip install 'qa[st]' torch==2.13.0") from None
        try:
            self._model = CrossEncoder(name, device="cpu")
        except Exception as exc:  # hub errors, missing folders: one line for the user
            raise QAError(f"cannot load cross-encoder {name!r}: {str(exc).splitlines()[0]}") from None

    def score(self, question: str, texts: list[str]) -> list[float]:
        return [float(s) for s in self._model.predict([(question, text) for text in texts])]


def load_reranker(spec: str) -> Reranker:
    if spec.startswith("st:") and len(spec) > 3:
        return CrossEncoderReranker(spec)
    raise QAError(f"unknown reranker {spec!r}: use 'st:NAME_OR_PATH' (a sentence-transformers cross-encoder)")
