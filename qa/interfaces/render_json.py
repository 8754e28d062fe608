"""A search's result as JSON: what `qa ask --json` prints, `/api/ask` answers and MCP's `search` returns."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..search import SearchResult


def result_dict(question: str, result: "SearchResult") -> dict[str, Any]:
    """The question, the mode that ran, whether the top hit seems to answer, and the hits with
    their citations (char offsets count characters from the start of the file's text)."""
    return {"question": question, "mode": result.mode, "answered": result.answered, "hits": [hit.to_dict() for hit in result.hits]}


def result_json(question: str, result: "SearchResult") -> str:
    return json.dumps(result_dict(question, result), ensure_ascii=False, indent=2)
