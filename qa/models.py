"""The plain records that flow through qa: documents in, passages indexed, hits out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Document:
    """One decoded file of the corpus; `text` is exactly what the file says."""

    path: str  # relative to the corpus dir, with forward slashes
    text: str
    encoding: str


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


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    rank: int
    answer: Answer | None = None
    dense_score: float | None = None
    lexical_score: float | None = None
    also_in: tuple[Source, ...] = field(default_factory=tuple)
    confidence: float | None = None  # the probability that this hit answers the question (qa.confidence)

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
