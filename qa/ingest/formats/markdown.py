"""Markdown: the file's own text, but for its pipe tables, laid out as every format lays out a table.

A table row found alone must say what its numbers are ("| INT4 | 5.5 GB | 5.1 GB |" does
not), so each row becomes "量化等级: INT4 | 编码 2048 长度的最小显存: 5.5 GB | …" and the
header's own line its labels; the delimiter line ("|---|---|") becomes an empty line. Every
other line is kept as written, and every line stays on its line, so a citation's line numbers
are the file's own; its character offsets count in the text qa read.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import text
from .assemble import Extracted, counted, labeled_rows

_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_EMPHASIS = re.compile(r"^(\*\*|__)(.+)\1$")
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def extract(data: bytes) -> Extracted:
    plain = text.extract(data)
    laid_out, tables = labeled_tables(plain.text)
    layout = (counted(tables, "table"),) if tables else ()
    return replace(plain, text=laid_out, format="markdown", layout=plain.layout + layout)


def labeled_tables(source: str) -> tuple[str, int]:
    """The text with each pipe table's rows labelled by its header; and how many tables there were."""
    lines = [(m.group(1), m.group(2)) for m in _LINE.finditer(source) if m.group(0)]
    out: list[str] = []
    tables = 0
    fence = ""
    i = 0
    while i < len(lines):
        line, end = lines[i]
        in_code, fence = fence, fence_after(line, fence)
        if not (in_code or fence) and "|" in line and i + 1 < len(lines) and _DELIMITER.match(lines[i + 1][0]):
            header = cells(line)
            body_end = i + 2
            while body_end < len(lines) and "|" in lines[body_end][0] and lines[body_end][0].strip():
                body_end += 1
            # As GitHub reads them: a delimiter of as many cells as the header (a lone "---"
            # under a line with a pipe in it underlines a heading).
            if len(header) > 1 and len(cells(lines[i + 1][0])) == len(header):
                tables += 1
                out.append(" | ".join(header) + end)
                out.append(lines[i + 1][1])  # the delimiter line, emptied: the lines stay where they were
                for row_line, row_end in lines[i + 2 : body_end]:
                    row = cells(row_line)
                    out.append((labeled_rows([header, row], header_rows=1)[1] if any(row) else row_line) + row_end)
                i = body_end
                continue
        out.append(line + end)
        i += 1
    return "".join(out), tables


def fence_after(line: str, fence: str) -> str:
    """The code fence open after `line` ("```" or "~~~"; "" outside code), given the one open
    before it: a fence opens a block, and only a fence of the same kind closes it."""
    opening = _FENCE.match(line)
    if not opening:
        return fence
    return "" if fence and opening.group(1)[0] == fence[0] else (fence or opening.group(1))


def cells(line: str) -> list[str]:
    """A table line's cells: split at pipes not escaped (\\|), the outer pipes dropped, **bold** unwrapped."""
    stripped = line.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    found = [cell.replace("\\|", "|").strip() for cell in re.split(r"(?<!\\)\|", stripped)]
    return [_EMPHASIS.sub(r"\2", cell) for cell in found]
