"""A passage with the passages around it in its document: what a citation points at, in context.

Shared by every interface that shows a cited passage (`qa serve`, `qa mcp`, the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import BadInputError
from .models import Passage

if TYPE_CHECKING:
    from .search import Index

MAX_AROUND = 10  # passages either side; more is a whole document, which has its own view


@dataclass(frozen=True)
class PassageContext:
    passage: Passage
    before: tuple[Passage, ...]  # the passages just before it in its document, in document order
    after: tuple[Passage, ...]

    def to_dict(self) -> dict:
        return {
            "passage": _passage_dict(self.passage),
            "before": [_passage_dict(p) for p in self.before],
            "after": [_passage_dict(p) for p in self.after],
        }


def passage_context(index: "Index", passage_id: str, around: int = 1) -> PassageContext:
    """The passage `passage_id` and up to `around` passages either side of it in its document."""
    if not 0 <= around <= MAX_AROUND:
        raise BadInputError(f"around must be between 0 and {MAX_AROUND}")
    passage = index.passage(passage_id)  # NotFoundError for an unknown id
    siblings = index.document_passages(passage.doc_path)
    at = next(i for i, p in enumerate(siblings) if p.id == passage.id)
    return PassageContext(passage=passage, before=tuple(siblings[max(at - around, 0) : at]), after=tuple(siblings[at + 1 : at + 1 + around]))


def _passage_dict(passage: Passage) -> dict:
    data = passage.to_dict()
    data["passage_id"] = data.pop("id")  # the name hits use in JSON
    return data
