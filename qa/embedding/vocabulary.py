"""The model's 250k vocabulary pieces, looked up without turning them all into Python strings.

A dict of every piece took a cold question 0.5 s and 60 MiB to build, while one question and
a few passages use a few thousand. Here the pieces stay one decoded string with numpy
offsets; they are grouped by their first two characters (a piece of one character is its own
group), and a group becomes a dict the first time a text asks for it.
"""

from __future__ import annotations

import threading

import numpy as np


class Vocabulary:
    """`find(piece)`, `longest(character)` and, as a sequence, each id's piece, over pieces laid
    end to end in UTF-8, each with its score."""

    def __init__(self, blob: bytes, byte_offsets: np.ndarray, scores: np.ndarray, skip: int | None = None):
        """`skip`: an id `find` never returns (the unknown piece, which no text spells)."""
        self.scores = scores
        self._text = blob.decode("utf-8")
        # A UTF-8 character starts at every byte not of the form 10xxxxxx.
        starts = np.frombuffer(blob, dtype=np.uint8) & 0xC0 != 0x80
        char_offsets = np.zeros(len(blob) + 1, dtype=np.int32)
        np.cumsum(starts, out=char_offsets[1:])
        self._offsets = char_offsets[byte_offsets.astype(np.int64)]
        self._skip = skip
        lengths = np.diff(self._offsets)
        # Each piece's first and second character (0 past its end; two zeros pad the text).
        codepoints = np.concatenate([np.frombuffer(self._text.encode("utf-32-le"), dtype="<u4"), np.zeros(2, dtype="<u4")])
        first = np.where(lengths > 0, codepoints[self._offsets[:-1]].astype(np.int64), 0)
        second = np.where(lengths > 1, codepoints[self._offsets[:-1] + 1].astype(np.int64), -1)
        del codepoints
        # Group key: first character, and second (or -1 for a one-character piece).
        keys = first * 0x110001 + (second + 1)
        self._order = np.argsort(keys, kind="stable").astype(np.int32)
        self._sorted_keys = keys[self._order]
        self._longest = np.zeros(int(first.max()) + 1 if len(first) else 1, dtype=np.int32)
        np.maximum.at(self._longest, first[lengths > 0], lengths[lengths > 0].astype(np.int32))
        self._groups: dict[int, dict[str, tuple[int, float]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(f"no piece {i}")
        i %= len(self)
        return self._text[self._offsets[i] : self._offsets[i + 1]]

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
