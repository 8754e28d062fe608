"""qa: ask a document collection a question, get the passages that answer it, with citations.

    from qa import build_index, load_index
    build_index("corpus", "embeddings")
    index = load_index("embeddings")
    for hit in index.search("截至2023年6月网民规模有多大？", top_k=5):
        print(hit.passage.doc_path, hit.passage.paragraph, hit.answer.text)

Heavy modules (the model, FAISS, jieba) load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    BadInputError,
    CorpusConflictError,
    GoldenFileError,
    IndexBusyError,
    IndexDamagedError,
    IndexMissingError,
    IndexVersionError,
    ModelMismatchError,
    NotFoundError,
    QAError,
    UnknownModelError,
)
from .models import Answer, Document, Hit, Passage, Source

__all__ = [
    "Answer", "Document", "Hit", "Passage", "Source", "build_index", "load_index", "evaluate", "Index", "SearchRequest", "SearchResult",
    "QAError", "BadInputError", "GoldenFileError", "NotFoundError", "IndexMissingError", "IndexDamagedError",
    "IndexVersionError", "IndexBusyError", "ModelMismatchError", "UnknownModelError", "CorpusConflictError",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from .builder import build_index
    from .evaluation import evaluate
    from .search import Index, SearchRequest, SearchResult, load_index


def __getattr__(name: str):
    # Lazy, so `import qa` stays cheap for the CLI's --help and for tools that only need the models.
    if name == "build_index":
        from .builder import build_index

        return build_index
    if name in ("load_index", "Index", "SearchRequest", "SearchResult"):
        from . import search

        return getattr(search, name)
    if name == "evaluate":
        from .evaluation import evaluate

        return evaluate
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
