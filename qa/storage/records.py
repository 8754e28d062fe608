"""The small records the storage modules share: what a build hands over, what a write left,
what the lexical leg found.

Kept apart so that no storage module needs another's code for them (no import cycles).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import BadInputError

if TYPE_CHECKING:
    from ..models import Document, Passage
    from .manifest import Manifest
    from .token_states import TokenTable

DEFAULT_COLLECTION = "default"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")  # what Milvus accepts in a collection name, too


def check_collection_name(name: str | None) -> str:
    """The name (the default collection's for None); BadInputError for one no backend can hold."""
    name = name or DEFAULT_COLLECTION
    if not _NAME.fullmatch(name):
        raise BadInputError(f"bad collection name {name!r}: letters, digits and _, starting with a letter (at most 48)")
    return name


def is_collection_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name))


@dataclass(frozen=True)
class Contents:
    """Everything one generation holds, as the builder hands it over."""

    manifest: Manifest
    passages: list[Passage]
    documents: list[Document]
    units: np.ndarray  # (passage number, char_start, char_end) per sentence
    vectors: np.ndarray
    unit_keys: list[str]
    passage_forms: list[str]
    unit_forms: list[str]
    unit_tokens: "TokenTable | None" = None  # each sentence's token states, where kept
    lexical_forms: list[str] | None = None  # what the lexical leg indexes (a passage with its context); None: passage_forms


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
