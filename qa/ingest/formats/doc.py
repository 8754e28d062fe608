"""Word 97-2003 .doc (olefile): the main text, paragraph by paragraph, from the piece table.

A .doc is an OLE container whose WordDocument stream holds the text in pieces (UTF-16, or
one byte a character), listed in the piece table of the 0Table or 1Table stream ([MS-DOC]
2.4.1). Only the main document is read (not headers, footnotes or comments). Fields show
their result, not their code, and a table of contents (a TOC field) is left out.

A table is laid out as in .docx, every row with its header's labels, when its cell marks fall
into rows of equal width (which mark ends a row is in the paragraph properties, which this
reader does not parse); a table with a cell of several paragraphs is read a cell per line.
Headings are paragraphs with an outline level or a heading style (doc_styles.py), and lines
numbered in their text ("4.1 范围", "第三章 …", and the 一、 （二） the chunker knows).
"""

from __future__ import annotations

import io
import re
import struct

from .assemble import Extracted, TextAssembler, UnreadableFile, counted, largest_type, section_number_depth
from .doc_styles import Piece, paragraph_formats

TITLE_PARAGRAPHS = 30  # a cover's title is among the first paragraphs
_WORD_IDENT = 0xA5EC
_FLAGS, _CCP_TEXT, _FC_CLX, _LCB_CLX = 0x000A, 0x004C, 0x01A2, 0x01A6
_ENCRYPTED, _TABLE_1 = 0x0100, 0x0200
_LINE_BREAK = re.compile(r"[\x0b\x0c]")  # a line break, a page or section break
# Drawn and embedded objects, and what is left of other control characters.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def extract(data: bytes) -> Extracted:
    try:
        raw, formats = _main_text(data)
    except (struct.error, IndexError) as exc:  # offsets pointing past the streams' ends
        raise UnreadableFile(f"damaged Word 97-2003 file ({exc})") from None
    text, marks = _field_results(raw)
    assembler = TextAssembler()
    tables = loose = 0
    opening: list[tuple[float, str]] = []  # (type size, text) of the paragraphs before the first heading
    for number, chunk in enumerate(text.split("\r")):
        level, size = formats.get(marks[number], (0, 0.0)) if number < len(marks) else (0, 0.0)
        if "\x07" not in chunk:
            if not (assembler.heading_starts or level or section_number_depth(chunk)) and len(opening) < TITLE_PARAGRAPHS:
                opening.append((size, _CONTROL.sub("", chunk).strip()))
            _lines(assembler, chunk, level)
            continue
        # A table's cells each end with a mark, and so does each row: "项目\x07一级\x07\x07…".
        *cells, after = chunk.split("\x07")
        rows = _rows(cells)
        if rows:
            tables += 1
            assembler.table(rows)
        else:
            loose += 1
            for cell in cells:
                _lines(assembler, cell)
        _lines(assembler, after, level)  # the paragraph after a table follows its last mark
    if assembler.empty:
        raise UnreadableFile("no text in this Word 97-2003 file")
    layout = ((counted(tables, "table"),) if tables else ()) + (("table cells read one per line",) if loose else ())
    return assembler.result("doc", title=largest_type(opening), layout=layout)  # the cover's largest type, as for .docx


def _lines(assembler: TextAssembler, paragraph: str, level: int = 0) -> None:
    """A paragraph's lines; a heading by its style (`level`) or by its number."""
    for line in _LINE_BREAK.split(paragraph):
        assembler.numbered_line(_CONTROL.sub("", line.replace("\x1e", "-").replace("\x1f", "")), level)


def _rows(cells: list[str]) -> list[list[str]]:
    """A table's rows, when its marks fall in rows of n cells and an empty end mark (n ≥ 2, the
    fewest that fit); [] when they don't (a cell of several paragraphs splits its table)."""
    for width in range(2, len(cells)):
        if len(cells) % (width + 1) == 0 and all(not cells[end].strip() for end in range(width, len(cells), width + 1)):
            return [cells[start : start + width] for start in range(0, len(cells), width + 1)]
    return []


def _main_text(data: bytes) -> tuple[str, dict[int, tuple[int, float]]]:
    """The main document's characters, control marks included, and each paragraph's heading
    level and type size, by the position of the mark that ends it."""
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, ValueError) as exc:
        raise UnreadableFile(f"damaged Word 97-2003 file ({exc})") from None
    with ole:
        if not ole.exists("WordDocument"):
            raise UnreadableFile("a legacy Office file that is not a Word document (Excel, PowerPoint?), or a password-protected .docx")
        document = ole.openstream("WordDocument").read()
        if len(document) < _LCB_CLX + 4 or struct.unpack_from("<H", document, 0)[0] != _WORD_IDENT:
            raise UnreadableFile("damaged Word 97-2003 file (no file information block)")
        flags = struct.unpack_from("<H", document, _FLAGS)[0]
        if flags & _ENCRYPTED:
            raise UnreadableFile("a password-protected Word 97-2003 file")
        table_name = "1Table" if flags & _TABLE_1 else "0Table"
        if not ole.exists(table_name):
            raise UnreadableFile(f"damaged Word 97-2003 file (no {table_name} stream)")
        table = ole.openstream(table_name).read()
    main_chars = max(struct.unpack_from("<i", document, _CCP_TEXT)[0], 0)
    fc_clx, lcb_clx = struct.unpack_from("<II", document, _FC_CLX)
    pieces = _pieces(table[fc_clx : fc_clx + lcb_clx])
    text = "".join(
        document[p.byte_start : p.byte_start + (p.cp_end - p.cp_start)].decode("cp1252", errors="replace")
        if p.one_byte
        else document[p.byte_start : p.byte_start + 2 * (p.cp_end - p.cp_start)].decode("utf-16-le", errors="replace")
        for p in pieces
    )[:main_chars]
    marks = [cp for cp, char in enumerate(text) if char == "\r"]
    try:
        return text, paragraph_formats(document, table, pieces, marks) if pieces else {}
    except (struct.error, IndexError):  # damaged properties: the text stands without headings
        return text, {}


def _pieces(clx: bytes) -> list[Piece]:
    """The text's pieces, in order ([MS-DOC] 2.9.38 Clx, 2.9.177 Pcd)."""
    at = 0
    while at < len(clx) and clx[at] == 0x01:  # Prc: formatting the pieces share, skipped
        at += 3 + struct.unpack_from("<h", clx, at + 1)[0]
    if at + 5 > len(clx) or clx[at] != 0x02:
        raise UnreadableFile("damaged Word 97-2003 file (no piece table)")
    size = struct.unpack_from("<I", clx, at + 1)[0]
    plc = clx[at + 5 : at + 5 + size]
    count = (len(plc) - 4) // 12
    positions = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for n in range(count):
        fc = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * n + 2)[0]
        one_byte = bool(fc & 0x40000000)
        pieces.append(Piece(positions[n], positions[n + 1], (fc & 0x3FFFFFFF) // 2 if one_byte else fc, one_byte))
    return pieces


def _field_results(text: str) -> tuple[str, list[int]]:
    """Fields as their results: "\x13 PAGEREF _Toc1 \x14 12\x15" reads "12" (nested fields
    too); a table of contents (a TOC field) is left out whole, as its lines repeat the
    headings. Also the position in `text` of each paragraph mark kept."""
    out: list[str] = []
    marks: list[int] = []
    stack: list[list] = []  # per open field: [its code so far, whether its result has begun, whether it is a TOC]
    for cp, char in enumerate(text):
        if char == "\x13":
            stack.append([[], False, False])
        elif char == "\x14" and stack:
            field = stack[-1]
            field[1], field[2] = True, "".join(field[0]).strip().upper().startswith("TOC")
        elif char == "\x15" and stack:
            stack.pop()
        elif stack and not stack[-1][1]:
            stack[-1][0].append(char)
        elif not any(toc for _, _, toc in stack):
            out.append(char)
            if char == "\r":
                marks.append(cp)
    return "".join(out), marks
