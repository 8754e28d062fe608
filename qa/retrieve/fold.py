"""Folding near-duplicate passages into one hit.

The same text often sits in several files (a speech reprinted, a copy in another
script, a version with segmentation artifacts or dropped characters). Two passages
are near-duplicates when most character trigrams of the shorter one (after
normalization, punctuation dropped) also occur in the other, and each one's text is
mostly found in the other's surroundings (the passage with its neighbours in its
file). The second test tells a copy chunked differently (the rest of the long
passage is in the short one's neighbours) from a quotation (a short passage whose
sentence a longer, different text repeats): "also in" must mean the same content.
The copy shown is the most complete one (it is not missing characters the others
have), then the one with the fewest artifacts.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from ..models import Passage

CONTAINMENT = 0.7  # of the shorter passage's trigrams, in the other passage
# Of each passage's trigrams, in the other's surroundings. Lower than CONTAINMENT since copies
# with dropped characters are chunked at other places; on the seed corpus copies score
# 0.61-0.97 and quotations 0.08-0.26.
COVERAGE = 0.6
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Group:
    members: list[int]  # candidate positions, best-scored first
    representative: int


def matching_form(normalized: str) -> str:
    """The form compared for duplication: normalized text without punctuation or spaces."""
    return _NOT_WORD.sub("", normalized)


def shingles(form: str, n: int = 3) -> frozenset[str]:
    return frozenset(form[i : i + n] for i in range(max(len(form) - n + 1, 1)))


def is_near_duplicate(a: frozenset[str], b: frozenset[str], a_around=None, b_around=None) -> bool:
    """a and b share most of the shorter one's text, and each is mostly in the other's surroundings
    (`a_around`, `b_around`: trigrams of the passage with its neighbours, or a function that makes
    them; the passage alone if not given)."""
    if not a or not b:
        return False
    if len(a & b) / min(len(a), len(b)) < CONTAINMENT:
        return False
    a_around = (a_around() if callable(a_around) else a_around) or a
    b_around = (b_around() if callable(b_around) else b_around) or b
    return len(a & b_around) / len(a) >= COVERAGE and len(b & a_around) / len(b) >= COVERAGE


def fold(passages: list[Passage], normalized: list[str], limit: int, surroundings: list[str] | None = None) -> list[Group]:
    """Group passages (given best first, with their normalized texts) into at most `limit` groups.

    `surroundings[i]`, if given, is the normalized text of passage i with the passages next to
    it in its file, so a copy chunked at other places still folds.
    """
    forms = [matching_form(text) for text in normalized]
    grams = [shingles(form) for form in forms]
    around_of: dict[int, frozenset[str]] = {}

    def around(i: int) -> frozenset[str]:
        # Made on demand: only pairs that share most of their text get this far.
        if surroundings is None:
            return grams[i]
        if i not in around_of:
            around_of[i] = shingles(matching_form(surroundings[i]))
        return around_of[i]

    groups: list[list[int]] = []
    for i in range(len(passages)):
        # Compared with each group's best passage only, so groups don't chain through
        # shared boilerplate; passages of one file are distinct parts of it, however alike.
        home = next(
            (
                g
                for g in groups
                if passages[i].doc_path != passages[g[0]].doc_path and is_near_duplicate(grams[i], grams[g[0]], lambda: around(i), lambda: around(g[0]))
            ),
            None,
        )
        if home is not None:
            home.append(i)
        elif len(groups) < limit:
            groups.append([i])
    return [Group(members=g, representative=_cleanest(g, passages, forms)) for g in groups]


def _cleanest(members: list[int], passages: list[Passage], forms: list[str]) -> int:
    missing = {i: 0 for i in members}
    for x in members:
        for y in members:
            if x < y:
                only_x, only_y = _unmatched_inside_overlap(forms[x], forms[y])
                missing[x] += only_y
                missing[y] += only_x
    fewest_missing = min(missing.values())
    # A copy missing characters that another copy has is a damaged copy, however long.
    complete = [i for i in members if missing[i] == fewest_missing]
    # Then the copy with the fewest artifacts, then the one with the most text (a fragment
    # quoted verbatim in a longer passage doesn't stand for it), then the best ranked.
    return max(complete, key=lambda i: (round(_cleanliness(passages[i].text), 2), len(forms[i]), -members.index(i)))


def _unmatched_inside_overlap(a: str, b: str) -> tuple[int, int]:
    """Characters of a and of b that the other lacks, inside the stretch where the two align.

    The stretch runs from the first to the last common run of 3+ characters, so text that
    only one side has before or after the shared part (a longer passage) doesn't count.
    """
    blocks = [m for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks() if m.size]
    anchors = [m for m in blocks if m.size >= 3]
    if not anchors:
        return 0, 0
    a_start, a_end = anchors[0].a, anchors[-1].a + anchors[-1].size
    b_start, b_end = anchors[0].b, anchors[-1].b + anchors[-1].size
    inside = [m for m in blocks if a_start <= m.a and m.a + m.size <= a_end and b_start <= m.b and m.b + m.size <= b_end]
    matched = sum(m.size for m in inside)
    return (a_end - a_start) - matched, (b_end - b_start) - matched


def _cleanliness(text: str) -> float:
    """Share of the original characters that survive normalization (artifacts don't)."""
    from ..ingest.normalize import join_segmented, strip_pinyin

    kept = join_segmented(strip_pinyin(unicodedata.normalize("NFC", text)))
    return len(kept) / max(len(text), 1)
