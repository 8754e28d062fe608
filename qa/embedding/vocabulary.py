"""The model's 250k vocabulary pieces, looked up without turning them all into Python strings.

A dict of every piece took a cold question 0.5 s and 60 MiB to build, while one question and
a few passages use a few thousand. Here the pieces stay UTF-8 bytes (a view of the model
file) with numpy offsets; they are grouped by their first two characters (a piece of one
character is its own group), and a group becomes a dict the first time a text asks for it.

Working out the groups reads every piece (~45 ms); given an `index_dir`, the three arrays
that come of it are kept there once and memory-mapped after, so a cold question skips that.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np

_NO_CHARACTER = -1
_SLICE = 8192  # pieces read at a time


class Vocabulary:
    """`find(piece)`, `longest(character)` and, as a sequence, each id's piece, over pieces laid
    end to end in UTF-8, each with its score."""

    def __init__(self, blob, byte_offsets: np.ndarray, scores: np.ndarray, skip: int | None = None, index_dir: Path | None = None):
        """`blob`: the pieces' UTF-8 bytes (bytes or a buffer); `skip`: an id `find` never
        returns (the unknown piece, which no text spells); `index_dir`: where the lookup
        tables of exactly these pieces are kept (made there if missing)."""
        self._blob = memoryview(blob)
        self._offsets = np.asarray(byte_offsets, dtype=np.int64)
        self.scores = scores
        self._skip = skip
        tables = _load_tables(index_dir, len(self)) if index_dir is not None else None
        if tables is None:
            tables = self._tables()
            if index_dir is not None:
                _save_tables(index_dir, tables)
        self._order, self._sorted_keys, self._longest = tables
        self._groups: dict[int, dict[str, tuple[int, float]]] = {}
        self._lock = threading.Lock()

    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ids in group order, their group keys (sorted), and the longest piece's length
        (in characters, at most 255) per first character."""
        data = np.frombuffer(self._blob, dtype=np.uint8)
        keys = np.empty(len(self), dtype=np.int64)
        longest = np.zeros(0x110000, dtype=np.uint8)
        # In slices: whole-vocabulary temporaries stay in the heap (and in a cold question's
        # peak memory) after they are freed.
        for a in range(0, len(self), _SLICE):
            b = min(a + _SLICE, len(self))
            starts, ends = self._offsets[a:b], self._offsets[a + 1 : b + 1]
            first, width = _codepoint_at(data, starts, ends)
            second, _ = _codepoint_at(data, starts + width, ends)
            # Group key: first character, and second (or -1 for a one-character piece).
            keys[a:b] = first * 0x110001 + (second + 1)
            has = first >= 0
            lengths = np.minimum(_character_counts(data, self._offsets[a : b + 1]), 255).astype(np.uint8)
            np.maximum.at(longest, first[has], lengths[has])
        order = np.argsort(keys, kind="stable").astype(np.int32)
        return order, keys[order], longest

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(f"no piece {i}")
        i %= len(self)
        return bytes(self._blob[self._offsets[i] : self._offsets[i + 1]]).decode("utf-8")

    @property
    def loaded(self) -> int:
        """How many pieces texts have asked for so far have been made into strings."""
        return sum(len(group) for group in list(self._groups.values()))

    def longest(self, character: str) -> int:
        """The length of the longest piece that starts with `character` (0 if none)."""
        code = ord(character)
        return int(self._longest[code]) if code < len(self._longest) else 0

    def find(self, piece: str) -> tuple[int, float] | None:
        """The piece's id and score; None if the vocabulary has no such piece."""
        if not piece:
            return None
        key = ord(piece[0]) * 0x110001 + (ord(piece[1]) + 1 if len(piece) > 1 else 0)
        group = self._groups.get(key)
        if group is None:
            group = self._group(key)
        return group.get(piece)

    def _group(self, key: int) -> dict[str, tuple[int, float]]:
        lo, hi = np.searchsorted(self._sorted_keys, [key, key + 1])
        ids = self._order[lo:hi].tolist()
        # Later ids win a repeated piece, as a dict built in id order would have it.
        group = {self[i]: (i, float(self.scores[i])) for i in ids if i != self._skip}
        with self._lock:
            return self._groups.setdefault(key, group)


_TABLES = ("order", "sorted_keys", "longest")


def _load_tables(index_dir: Path, pieces: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The kept tables, memory-mapped; None where they are missing or not of these pieces' shape."""
    try:
        # Plain views of the maps: a memmap runs Python code on every index (the tokenizer reads
        # `longest` once per character).
        order, keys, longest = (np.asarray(np.load(index_dir / f"{name}.npy", mmap_mode="r", allow_pickle=False)) for name in _TABLES)
    except (OSError, ValueError):
        return None
    fits = order.shape == keys.shape == (pieces,) and longest.shape == (0x110000,) and (order.dtype, keys.dtype, longest.dtype) == (np.int32, np.int64, np.uint8)
    return (order, keys, longest) if fits else None


def _save_tables(index_dir: Path, tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """Written to a folder of its own, then renamed into place: a reader finds all three or none.
    A cache that cannot be written is passed over (the tables are made again next time)."""
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{index_dir.name}.", suffix=".tmp", dir=index_dir.parent))
    except OSError:
        return
    try:
        for name, array in zip(_TABLES, tables):
            np.save(staging / f"{name}.npy", array)
        os.rename(staging, index_dir)  # fails if another process got there first: theirs stays
    except OSError:
        pass
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _codepoint_at(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The character that starts at each byte offset (-1 where the offset has reached `ends`),
    and its width in bytes (0 there), read from UTF-8 without decoding the whole buffer."""
    present = starts < ends
    at = np.where(present, starts, 0)
    lead = data[at].astype(np.int64) if len(data) else np.zeros(len(starts), dtype=np.int64)
    width = np.select([lead < 0x80, lead < 0xE0, lead < 0xF0], [1, 2, 3], 4)
    code = np.select([width == 1, width == 2, width == 3], [lead, lead & 0x1F, lead & 0x0F], lead & 0x07)
    for k in (1, 2, 3):
        more = present & (width > k)
        following = data[np.where(more, at + k, 0)].astype(np.int64) if len(data) else code
        code = np.where(more, (code << 6) | (following & 0x3F), code)
    return np.where(present, code, _NO_CHARACTER), np.where(present, width, 0)


def _character_counts(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Characters in each piece between `offsets`: its bytes that do not continue a character (10xxxxxx)."""
    span = data[offsets[0] : offsets[-1]]
    if not len(span):
        return np.zeros(len(offsets) - 1, dtype=np.int64)
    starts = ((span & 0xC0) != 0x80).view(np.uint8)
    begins = np.minimum(offsets[:-1] - offsets[0], len(starts) - 1)
    counts = np.add.reduceat(starts, begins, dtype=np.int64)
    return np.where(offsets[1:] > offsets[:-1], counts, 0)
