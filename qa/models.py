"""The plain records that flow through qa: documents in, passages and their sentences and
token states indexed, hits out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where arrays are made: `qa --help` never needs it
    import numpy as np

MODES = ("hybrid", "dense", "lexical")  # how a question can be searched; a dense-only collection has just "dense"


@dataclass(frozen=True)
class Document:
    """One file of the corpus as qa reads it.

    `text` is what the file says for plain text and Markdown, and the extracted text for
    other formats (PDF, DOCX, HTML, EPUB); passages and their offsets point into it.
    """

    path: str  # relative to the corpus dir, with forward slashes
    text: str
    encoding: str = ""  # the text encoding, for formats that have one
    format: str = "text"  # text, markdown, pdf, docx, doc, rtf, html, epub or image
    title: str = ""  # the document's own title (metadata, <title>), when it has one
    page_starts: tuple[int, ...] = ()  # char offset where each page begins; () when the format has no pages
    heading_starts: tuple[int, ...] = ()  # char offsets of lines the format marks as headings
    heading_levels: tuple[int, ...] = ()  # each heading's level (1 = top), parallel to heading_starts
    warnings: tuple[str, ...] = ()  # what could be read only in part
    layout: tuple[str, ...] = ()  # what the reader found and did with the layout ("TOC on p. 2–3 left out")
    # The lines read by OCR: (page or None, char_start, char_end, box (x0, y0, x1, y1), confidence),
    # kept so a citation can say the text was recognised (and, later, show where on the page).
    ocr_lines: tuple[tuple, ...] = ()
    size: int = 0  # the file's size and modification time when it was read, so an
    mtime_ns: int = 0  # unchanged file's extracted text can be reused instead of parsed again

    def page_at(self, char_offset: int) -> int | None:
        """The 1-based page that holds `char_offset`, or None for a format without pages."""
        if not self.page_starts:
            return None
        from bisect import bisect_right

        return max(bisect_right(self.page_starts, char_offset), 1)


def document_from_dict(data: dict) -> Document:
    """A Document from its JSON form (lists back to tuples)."""
    tuples = ("page_starts", "heading_starts", "heading_levels", "warnings", "layout")
    data = {key: tuple(value) if key in tuples else value for key, value in data.items()}
    if "ocr_lines" in data:
        data["ocr_lines"] = tuple((page, start, end, tuple(box), score) for page, start, end, box, score in data["ocr_lines"])
    return Document(**data)


@dataclass(frozen=True)
class Passage:
    """A span of a document: `document.text[char_start:char_end] == text`."""

    id: str
    doc_path: str
    title: str
    section: str
    paragraph: int  # 1-based number of the first paragraph the passage covers
    line_start: int  # 1-based, inclusive
    line_end: int
    char_start: int
    char_end: int
    text: str
    page: int | None = None  # 1-based page of a paged format (PDF); None otherwise
    ocr: bool = False  # its text (some of it) was recognised by OCR, not extracted

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """The sentence(s) of a hit that best answer the question, with offsets into the file."""

    text: str
    char_start: int
    char_end: int
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Source:
    """Another place where a folded (near-duplicate) hit's content also appears."""

    passage_id: str
    doc_path: str
    paragraph: int
    line_start: int
    line_end: int
    char_start: int  # offsets into the file's text, as a passage's
    char_end: int
    page: int | None = None


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    rank: int
    answer: Answer | None = None
    dense_score: float | None = None
    lexical_score: float | None = None
    also_in: tuple[Source, ...] = field(default_factory=tuple)
    confidence: float | None = None  # the probability that this hit answers the question (qa.answer.confidence)

    def to_dict(self) -> dict:
        data = {"rank": self.rank, "score": round(self.score, 6)}
        data["confidence"] = None if self.confidence is None else round(self.confidence, 4)
        data.update(self.passage.to_dict())
        data["passage_id"] = data.pop("id")
        data["dense_score"] = None if self.dense_score is None else round(self.dense_score, 6)
        data["lexical_score"] = None if self.lexical_score is None else round(self.lexical_score, 6)
        data["answer"] = self.answer.to_dict() if self.answer else None
        data["also_in"] = [asdict(source) for source in self.also_in]
        return data


@dataclass(frozen=True)
class Sentences:
    """The sentences of one passage as the index stores them."""

    spans: list[tuple[int, int]]  # offsets in the passage's file
    forms: list[str]  # normalized texts
    vectors: np.ndarray | None = None  # one unit vector per sentence
    previous_vector: np.ndarray | None = None  # the sentence before the passage in its paragraph
    lead: str = ""  # the opening sentence of the passage's paragraph, shortened like a title


def _no_weights() -> "np.ndarray":
    import numpy as np

    return np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class TokenStates:
    """A text's tokens as the encoder sees them in context. How rare each token is, and how it
    is spelt, are read for a question's tokens only; a passage's may leave them empty."""

    vectors: np.ndarray  # (tokens, dim), unit length
    parts: np.ndarray  # which part of the text (a passage's sentence) each token comes from
    weights: np.ndarray = field(default_factory=_no_weights)  # how rare each token is; 0 for punctuation
    pieces: tuple[str, ...] = ()  # each token's text, as the vocabulary spells it ("▁" opens a word)
