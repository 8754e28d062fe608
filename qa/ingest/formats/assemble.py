"""What every format reader returns, and the helper that lays out extracted text with its offsets."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")
_ASCII_WORD_END = re.compile(r"[A-Za-z0-9,.;:!?)]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z0-9(]")
LETTER = re.compile(r"[^\W\d_]")  # a letter or an ideograph, not a digit: a title has some
# A line ending so is a sentence or a clause, not a heading.
CLAUSE_END = re.compile(r"[。．.!！?？；;：:，,、]$")
# A section's number: 第三章, 4.1, 4.1、 or a bare 4, then its title.
SECTION_NUMBER = re.compile(
    r"^(?:第\s*[一二三四五六七八九十百\d]+\s*[章节篇部]\s+|(?:\d{1,2}|[A-Z])(?:\.\d{1,2}){1,4}(?:\s+|、\s*)|\d{1,2}\s+)(?=[^\d\s])"
)
MAX_NUMBERED_HEADING_CHARS = 40  # a heading known by its number alone is short…
_INNER_PUNCTUATION = re.compile(r"[。，；,;]|\. ")  # …and holds no sentence
TITLE_STANDS_OUT = 1.15  # a cover's largest type is this much larger than its median type, or the cover states no title
MAX_TITLE_CHARS = 80


class UnreadableFile(Exception):
    """The file is of a supported format but cannot be read (damaged, encrypted, no text)."""


@dataclass(frozen=True)
class Extracted:
    """The text of a file as qa indexes and cites it, with where its pages and headings start.

    For plain text this is the file's own text; for other formats it is the text qa extracted,
    which the index keeps, so citations point into it.
    """

    text: str
    format: str
    encoding: str = ""
    title: str = ""
    page_starts: tuple[int, ...] = ()  # char offset where each page begins; () for formats without pages
    heading_starts: tuple[int, ...] = ()  # char offsets of the lines that are headings
    heading_levels: tuple[int, ...] = ()  # 1 for a top heading, 2 below it…; one per heading_starts entry
    warnings: tuple[str, ...] = ()  # what was read only in part ("3 of 40 pages have no text layer")
    layout: tuple[str, ...] = ()  # what the reader found and did ("2 two-column pages", "TOC on p. 2–3 left out")
    # Each OCR'd line: (page or None, char_start, char_end, box (x0, y0, x1, y1), confidence); see formats/ocr.py.
    ocr_lines: tuple[tuple, ...] = ()


def line_joiner(before: str, after: str) -> str:
    """What goes between two lines of one paragraph: a space between Latin words, nothing
    between ideographs (a wrapped Chinese line goes on without one)."""
    return " " if _ASCII_WORD_END.search(before) and _ASCII_WORD_START.match(after) else ""


def counted(n: int, noun: str) -> str:
    """`1 table`, `3 tables`: how layout notes count what they found."""
    return f"{n} {noun}{'s' if n != 1 else ''}"


def cover_title(lines: Sequence[Any], size: Callable[[Any], float], share: float, reading_order: Callable[[list], list]) -> str:
    """A document's title as its first page states it: the lines (of three letters or more, each
    with a .text) in at least `share` of the page's largest type, joined in `reading_order`; ""
    when that type does not stand out from the rest, or the title runs past MAX_TITLE_CHARS.
    `size(line)` is a line's type size (a PDF's font size; an OCR'd line's, from its box)."""
    worded = [line for line in lines if len(LETTER.findall(line.text)) >= 3]
    if not worded:
        return ""
    largest = max(size(line) for line in worded)
    if largest < TITLE_STANDS_OUT * statistics.median(size(line) for line in worded):
        return ""
    title = " ".join(line.text for line in reading_order([line for line in worded if size(line) >= share * largest]))
    return title if len(title) <= MAX_TITLE_CHARS else ""


def largest_type(lines: Sequence[tuple[float, str]]) -> str:
    """The lines (type size, text) in the largest type, joined, when that type is larger than
    the most common one: a Word cover's title. "" when nothing stands out. Only lines with a
    size and of 4 to MAX_TITLE_CHARS characters count (a page number is no title, a paragraph neither)."""
    sized = [(size, text) for size, text in lines if size and 4 <= len(text) <= MAX_TITLE_CHARS]
    if not sized:
        return ""
    body = Counter(size for size, _ in sized).most_common(1)[0][0]
    largest = max(size for size, _ in sized)
    return " ".join(text for size, text in sized if size == largest) if largest > body else ""


def section_number_depth(text: str) -> int:
    """How deep a line's section number goes (1 for "4 范围" or "第三章 总则", 2 for "4.1 …"), if
    the line reads as a numbered heading: short, and not a sentence; 0 otherwise."""
    text = text.strip()
    if len(text) > MAX_NUMBERED_HEADING_CHARS or not SECTION_NUMBER.match(text) or _INNER_PUNCTUATION.search(text) or CLAUSE_END.search(text):
        return 0
    return text.split()[0].split("、")[0].count(".") + 1


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class TextAssembler:
    """Builds extracted text one line at a time: a paragraph, a heading or a table row is a line."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._length = 0
        self.page_starts: list[int] = []
        self.heading_starts: list[int] = []
        self.heading_levels: list[int] = []

    def new_page(self) -> None:
        self.page_starts.append(self._length)

    def line(self, text: str, heading: bool = False, level: int = 1) -> None:
        text = collapse_spaces(text)
        if not text:
            return
        if heading:
            self.heading_starts.append(self._length)
            self.heading_levels.append(max(1, level))
        self._lines.append(text)
        self._length += len(text) + 1  # the line and its "\n"

    def numbered_line(self, text: str, level: int = 0) -> None:
        """A line of a format that marks no headings (or not this one): a heading at `level`
        when given, else when its text is numbered as one ("4.1 范围", "第三章 总则")."""
        depth = level or section_number_depth(text)
        self.line(text, heading=bool(depth), level=depth or 1)

    def text(self) -> str:
        """The text laid out so far."""
        return "".join(line + "\n" for line in self._lines)

    @property
    def empty(self) -> bool:
        return not self._lines

    def table(self, rows: list[list[str]], header_rows: int | None = None) -> None:
        """Lay out a table, one line per row, every row carrying the header's labels."""
        for row in labeled_rows(rows, header_rows):
            self.line(row)

    def result(
        self, format_name: str, title: str = "", warnings: tuple[str, ...] = (), encoding: str = "", layout: tuple[str, ...] = ()
    ) -> Extracted:
        return Extracted(
            text=self.text(),
            format=format_name,
            encoding=encoding,
            title=collapse_spaces(title),
            page_starts=tuple(self.page_starts),
            heading_starts=tuple(self.heading_starts),
            heading_levels=tuple(self.heading_levels),
            warnings=warnings,
            layout=layout,
        )


CELL_SEPARATOR = " | "
LABEL_SEPARATOR = " | "  # not a sentence end: a row is one sentence to embed and to highlight
_NUMERIC = re.compile(r"^[\s\d.,%±~～—–+\-×/:()（）<>≤≥]*$")


def labeled_rows(rows: list[list[str]], header_rows: int | None = None) -> list[str]:
    """The lines of a table: a row reads "label: value | label: value", so a row found alone
    still says what its numbers are. Empty cells keep their column ("label: "); columns
    that share one value (a merged cell) share it once ("一级/二级: 13.0"). Without a header
    the cells are joined with " | ", empty ones included, so columns never shift.

    `header_rows`: how many leading rows are the header; None guesses 1 when the first row
    looks like labels (every cell filled, not numbers) and more rows follow, else 0.
    """
    rows = [[collapse_spaces(cell) for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    if header_rows is None:
        first = rows[0]
        header_rows = int(len(rows) > 1 and len(first) > 1 and all(first) and not any(_NUMERIC.match(cell) for cell in first))
    width = max(len(row) for row in rows)
    labels = [""] * width
    for row in rows[:header_rows]:  # stacked header rows: "大类 › 小类"
        for column, cell in enumerate(row):
            if cell and cell not in labels[column].split(" › "):
                labels[column] = f"{labels[column]} › {cell}" if labels[column] else cell
    lines = [CELL_SEPARATOR.join(labels)] if header_rows else []
    for row in rows[header_rows:]:
        row = row + [""] * (width - len(row))
        if not header_rows or not any(labels):
            lines.append(CELL_SEPARATOR.join(row))
            continue
        pairs: list[tuple[list[str], str]] = []
        for label, cell in zip(labels, row):
            if pairs and cell and cell == pairs[-1][1]:
                pairs[-1][0].append(label)
            else:
                pairs.append(([label], cell))
        lines.append(LABEL_SEPARATOR.join(f"{'/'.join(l for l in names if l)}: {cell}" if any(names) else cell for names, cell in pairs))
    return lines
