"""Each sentence's token states (qa.retrieve.align), kept by the index so questions need not make them.

Token alignment compares a question's tokens with the best candidates' tokens as the encoder
sees them in context. Made at question time, that was the passages' second trip through the
encoder: most of a hybrid question's time. The build's own encoder pass over each sentence
gives them for nothing, so the index keeps them: per token its vocabulary id and its state,
quantized to int8 with one scale per token (cosines within ~0.005 of the float ones), so
they take about a quarter of their float size.

    states/  ids.npy      int32, every sentence's tokens, in sentence order
             vectors.npy  int8, (tokens, dim)
             scales.npy   float32, per token: vector = int8 row * scale
             offsets.npy  int64, (sentences + 1): sentence i owns tokens offsets[i]:offsets[i+1]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = ("ids", "vectors", "scales", "offsets")


@dataclass(frozen=True)
class SentenceTokens:
    """One sentence's tokens: vocabulary ids and unit-length states."""

    ids: np.ndarray
    vectors: np.ndarray


@dataclass(frozen=True)
class TokenTable:
    """The tokens of a run of sentences, quantized: sentence i owns rows offsets[i]:offsets[i+1]."""

    ids: np.ndarray
    vectors: np.ndarray
    scales: np.ndarray
    offsets: np.ndarray

    @classmethod
    def of(cls, sentences: list[SentenceTokens], dim: int) -> "TokenTable":
        lengths = np.array([len(s.ids) for s in sentences], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        floats = np.concatenate([s.vectors for s in sentences]) if len(sentences) and offsets[-1] else np.zeros((0, dim), dtype=np.float32)
        vectors, scales = quantize(floats.astype(np.float32, copy=False))
        ids = np.concatenate([np.asarray(s.ids, dtype=np.int32) for s in sentences]) if offsets[-1] else np.zeros(0, dtype=np.int32)
        return cls(ids=ids, vectors=vectors, scales=scales, offsets=offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sentence(self, i: int) -> SentenceTokens:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return SentenceTokens(ids=np.asarray(self.ids[a:b]), vectors=dequantize(self.vectors[a:b], self.scales[a:b]))

    def sentences(self, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sentences start..end-1 as one text: (ids, unit vectors, which of them each token is from)."""
        a, b = int(self.offsets[start]), int(self.offsets[end])
        parts = np.repeat(np.arange(end - start), np.diff(self.offsets[start : end + 1]))
        return np.asarray(self.ids[a:b]), dequantize(self.vectors[a:b], self.scales[a:b]), parts

    def save(self, states_dir: Path) -> None:
        states_dir.mkdir()
        for name in FILES:
            np.save(states_dir / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, states_dir: Path, sentence_count: int, dim: int) -> "TokenTable":
        """Memory-mapped; ValueError if the files disagree with each other or with the index."""
        # Plain views of the maps: numpy's memmap class runs Python code on every index and slice.
        table = cls(**{name: np.asarray(np.load(states_dir / f"{name}.npy", mmap_mode="r", allow_pickle=False)) for name in FILES})
        tokens = len(table.ids)
        if len(table.offsets) != sentence_count + 1 or table.offsets[0] != 0 or table.offsets[-1] != tokens or np.any(np.diff(table.offsets) < 0):
            raise ValueError("token offsets and sentences are out of step")
        if table.vectors.shape != (tokens, dim) or table.scales.shape != (tokens,):
            raise ValueError("token states and ids are out of step")
        return table


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row: (int8 rows, float32 scale per row)."""
    scales = (np.abs(vectors).max(axis=1) / 127.0).astype(np.float32) if len(vectors) else np.zeros(0, dtype=np.float32)
    scales = np.maximum(scales, np.float32(1e-12))
    return np.round(vectors / scales[:, None]).astype(np.int8), scales


def dequantize(vectors: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Unit-length float32 rows back from int8 rows and their scales."""
    rows = np.asarray(vectors, dtype=np.float32) * np.asarray(scales, dtype=np.float32)[:, None]
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
