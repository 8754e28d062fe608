"""The small records the storage modules share: what a write left, what the lexical leg found.

Kept apart so that no storage module needs another's code for them (no import cycles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEFAULT_COLLECTION = "default"


@dataclass(frozen=True)
class Written:
    """What a collection holds after a write."""

    passages: int
    units: int
    removed: int  # sentences the collection held before and no longer does
    index_type: str
    notes: tuple[str, ...] = ()  # what the user should know about what was built (a dense-only collection, and why)


@dataclass(frozen=True)
class LexicalFound:
    """What the lexical leg found for one question: its top passages, the BM25 score of any
    passage, and the score of a passage that matched every question word (the ceiling)."""

    found: list[int]
    scores: Callable[[list[int]], np.ndarray]
    ceiling: float
    coverage: float  # the share of the question's words the collection has at all
