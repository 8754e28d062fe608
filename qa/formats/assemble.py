"""What every format reader returns, and the helper that lays out extracted text with its offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u3000]+")


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
    warnings: tuple[str, ...] = ()  # what was read only in part ("3 of 40 pages have no text layer")

    def as_format(self, format_name: str) -> "Extracted":
        return replace(self, format=format_name)


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


class TextAssembler:
    """Builds extracted text one line at a time: a paragraph, a heading or a table row is a line."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._length = 0
        self.page_starts: list[int] = []
        self.heading_starts: list[int] = []

    def new_page(self) -> None:
        self.page_starts.append(self._length)

    def line(self, text: str, heading: bool = False) -> None:
        text = collapse_spaces(text)
        if not text:
            return
        if heading:
            self.heading_starts.append(self._length)
        self._lines.append(text)
        self._length += len(text) + 1  # the line and its "\n"

    @property
    def empty(self) -> bool:
        return not self._lines

    def result(self, format_name: str, title: str = "", warnings: tuple[str, ...] = (), encoding: str = "") -> Extracted:
        return Extracted(
            text="".join(line + "\n" for line in self._lines),
            format=format_name,
            encoding=encoding,
            title=collapse_spaces(title),
            page_starts=tuple(self.page_starts),
            heading_starts=tuple(self.heading_starts),
            warnings=warnings,
        )
