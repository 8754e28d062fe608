"""RTF (striprtf): the text paragraph by paragraph, in the code page the file declares; tables
laid out as in .docx, every row with its header's labels.

Word saves RTF under .rtf, and many published ".doc" files are RTF inside. striprtf keeps the
text and drops the formatting, so headings are the lines numbered in their text ("4.1 范围",
"第三章 …"), as in a .doc without styles. Raw bytes of the declared code page (\\ansicpg936,
GBK) are read as such; \\'xx escapes and \\uN characters as striprtf reads them.
"""

from __future__ import annotations

import codecs
import re

from .assemble import Extracted, TextAssembler, UnreadableFile, counted

# A table's cell and row ends, turned into marks no text holds before striprtf reads the file
# (it writes them as "|" and a line end, which a cell's own text may hold).
_CELL, _ROW = "\ue000", "\ue001"
_TABLE_WORD = re.compile(rb"(?<!\\)\\(nestcell|cell|nestrow|row)(?![A-Za-z])(?:\s)?")
_CODE_PAGE = re.compile(rb"\\ansicpg(\d+)")


def extract(data: bytes) -> Extracted:
    from striprtf.striprtf import rtf_to_text

    marked = _TABLE_WORD.sub(lambda m: b"\\u57344?" if m.group(1).endswith(b"cell") else b"\\u57345?", data)
    try:
        text = rtf_to_text(marked.decode(_code_page(data), errors="replace"), errors="ignore")
    except Exception as exc:  # striprtf raises IndexError, ValueError, OverflowError, TypeError… on damaged files
        raise UnreadableFile(f"damaged RTF file ({exc.__class__.__name__})") from None
    assembler = TextAssembler()
    tables = 0
    rows: list[list[str]] = []
    for chunk in text.split(_ROW):
        *cells, after = chunk.split(_CELL)
        if cells:
            # Paragraphs before a row's first cell stand above it: a table before them has ended.
            # (A first cell of several paragraphs reads the same way: its earlier ones as lines.)
            before, _, first = cells[0].rpartition("\n")
            if before.strip():
                tables += _table(assembler, rows)
                rows = []
                _lines(assembler, before)
            rows.append([first, *cells[1:]])
        if after.strip() or not cells:  # text after a row: the table has ended
            tables += _table(assembler, rows)
            rows = []
            _lines(assembler, after)
    tables += _table(assembler, rows)
    if assembler.empty:
        raise UnreadableFile("no text in this RTF file")
    return assembler.result("rtf", layout=(counted(tables, "table"),) if tables else ())


def _code_page(data: bytes) -> str:
    """The code page raw bytes are in: the file's \\ansicpg, else Windows Latin 1 (RTF's default)."""
    found = _CODE_PAGE.search(data[:4096])
    name = f"cp{int(found.group(1))}" if found else "cp1252"
    try:
        codecs.lookup(name)
    except LookupError:
        return "cp1252"
    return name


def _table(assembler: TextAssembler, rows: list[list[str]]) -> int:
    rows = [[cell.strip().replace("\n", " ") for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return 0
    assembler.table(rows)
    return 1


def _lines(assembler: TextAssembler, text: str) -> None:
    for line in text.split("\n"):
        assembler.numbered_line(line)
