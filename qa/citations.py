"""Following a citation back to its passage: by passage id, `FILE ¶N`, `FILE p.N`, or the whole
citation line `qa ask` prints (`report.pdf p.2 ¶3 L5 chars 139-192`); and the passages around it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import BadInputError, NotFoundError
from .models import Passage

if TYPE_CHECKING:
    from .search import Index

MAX_AROUND = 50  # passages either side of a cited one that an interface shows at most
_PASSAGE_ID = re.compile(r"^[0-9a-f]{12}(?:-\d+)?$")
_CITATION = re.compile(
    r"^(?P<path>.+?)"
    r"(?:\s+p\.\s*(?P<page>\d+))?"
    r"(?:\s+¶\s*(?P<paragraph>\d+))?"
    r"(?:\s+L\d+(?:-\d+)?)?"
    r"(?:\s+chars\s+(?P<start>\d+)-(?P<end>\d+))?\s*$"
)


@dataclass(frozen=True)
class PassageContext:
    """Cited passages with the ones just before and after them in their document."""

    doc_path: str
    before: tuple[Passage, ...]
    cited: tuple[Passage, ...]
    after: tuple[Passage, ...]

    def to_dict(self) -> dict:
        return {
            "doc_path": self.doc_path,
            "before": [p.to_dict() for p in self.before],
            "cited": [p.to_dict() for p in self.cited],
            "after": [p.to_dict() for p in self.after],
        }


def find_cited(index: "Index", citation: str) -> list[Passage]:
    """The passages a citation names, in document order; NotFoundError when it names none."""
    citation = citation.strip()
    if not citation:
        raise BadInputError("give a passage id, or a citation like `report.pdf p.12` or `notes.txt ¶3`")
    if _PASSAGE_ID.match(citation):
        return [index.passage(citation)]
    match = _CITATION.match(citation)
    path, page, paragraph, start = match["path"], match["page"], match["paragraph"], match["start"]
    passages = index.document_passages(path)  # NotFoundError for a file the index does not hold
    if start is not None:
        found = [p for p in passages if p.char_start == int(start) and p.char_end == int(match["end"])]
    else:
        found = [p for p in passages if (page is None or p.page == int(page)) and (paragraph is None or p.paragraph == int(paragraph))]
    if not found:
        raise NotFoundError(f"{path} has no passage at {citation[len(path):].strip()} ({_extent(passages)})")
    return found


def passage_context(index: "Index", cited: list[Passage], around: int = 1) -> PassageContext:
    """`around` passages before the first cited one and after the last, from the same document."""
    if not cited:
        raise BadInputError("no passage to show: cite at least one")
    passages = index.document_passages(cited[0].doc_path)
    ids = [p.id for p in passages]
    first, last = ids.index(cited[0].id), ids.index(cited[-1].id)
    return PassageContext(
        doc_path=cited[0].doc_path,
        before=tuple(passages[max(first - around, 0) : first]),
        cited=tuple(passages[first : last + 1]),
        after=tuple(passages[last + 1 : last + 1 + around]),
    )


def _extent(passages: list[Passage]) -> str:
    pages = [p.page for p in passages if p.page is not None]
    paragraphs = _span("paragraph", f"¶{passages[0].paragraph}", f"¶{passages[-1].paragraph}")
    return f"{_span('page', min(pages), max(pages))} with text, {paragraphs}" if pages else paragraphs


def _span(noun: str, first: object, last: object) -> str:
    return f"{noun} {first}" if first == last else f"{noun}s {first}–{last}"
