"""What a Word 97-2003 .doc's paragraphs are: which are headings, and of what level (their
outline level, set on the paragraph or on its style or a style it is based on, or a built-in
heading style), and the size of their type (for the cover's title).

Paragraph properties sit in 512-byte pages of the WordDocument stream, found through the
PlcBtePapx of the table stream; each names its style (istd) and may set an outline level
directly (sprmPOutLvl). Styles are in the stylesheet (STSH), each with its built-in identity
(sti: 1-9 are Heading 1-9), the style it is based on, and its own paragraph properties
Character properties sit in pages of their own (PlcBteChpx) and may set the type size
(sprmCHps); else a paragraph's style says it ([MS-DOC] 2.9.271 STSH, 2.9.175 PapxFkp, 2.9.33
ChpxFkp, 2.6 sprms).
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

_FC_STSHF, _FC_PLCF_BTE_CHPX, _FC_PLCF_BTE_PAPX = 0x00A2, 0x00FA, 0x0102  # offsets in the file information block
_OUTLINE_LEVEL = 0x2640  # sprmPOutLvl: 0-8 are levels 1-9, 9 is body text
_TYPE_SIZE = 0x4A43  # sprmCHps: half-points
DEFAULT_SIZE = 10.0  # Word's type size where no style sets one
_NO_STYLE = 0x0FFF
_PAGE = 512
_STYLE_DEPTH = 10  # styles looked through along a chain of base styles


@dataclass(frozen=True)
class Piece:
    """A run of the text: its characters' positions (CPs) and where their bytes start."""

    cp_start: int
    cp_end: int
    byte_start: int
    one_byte: bool  # one byte a character (cp1252), else UTF-16


@dataclass(frozen=True)
class Style:
    sti: int  # built-in identity: 1-9 are Heading 1-9
    base: int  # the istd of the style it is based on
    level: int | None  # the outline level it sets, if it sets one
    size: float | None  # the type size it sets, if it sets one


def paragraph_formats(document: bytes, table: bytes, pieces: list[Piece], marks: list[int]) -> dict[int, tuple[int, float]]:
    """For each paragraph mark's CP in `marks`: its paragraph's heading level (1-9, 0 for body
    text) and the size of its first character's type, in points."""
    styles = _styles(table, *struct.unpack_from("<II", document, _FC_STSHF))
    paragraphs = _runs(document, table, *struct.unpack_from("<II", document, _FC_PLCF_BTE_PAPX), _papx)
    characters = _runs(document, table, *struct.unpack_from("<II", document, _FC_PLCF_BTE_CHPX), _chpx)
    cp_starts = [piece.cp_start for piece in pieces]

    def fc(cp: int) -> int:
        piece = pieces[max(bisect.bisect_right(cp_starts, cp) - 1, 0)]
        return piece.byte_start + (cp - piece.cp_start) * (1 if piece.one_byte else 2)

    out: dict[int, tuple[int, float]] = {}
    first = 0
    for cp in marks:
        istd, properties = _find(paragraphs, fc(cp)) or (0, b"")
        direct = _operand(properties, _OUTLINE_LEVEL)
        level = _level(direct[0]) if direct else _through(styles, istd, "level")
        size = _operand(_find(characters, fc(first)) or b"", _TYPE_SIZE)
        points = struct.unpack_from("<H", size)[0] / 2 if size and len(size) >= 2 else _through(styles, istd, "size")
        out[cp] = (level or 0, points or DEFAULT_SIZE)
        first = cp + 1
    return out


def _find(runs: list[tuple[int, int, object]], fc: int):
    """What the run holding byte `fc` says, or None."""
    at = bisect.bisect_right(runs, (fc, float("inf"))) - 1
    return runs[at][2] if at >= 0 and runs[at][0] <= fc < runs[at][1] else None


def _through(styles: dict[int, Style], istd: int, what: str):
    """A style's level or size, from it or the first style it is based on that sets it."""
    for _ in range(_STYLE_DEPTH):
        style = styles.get(istd)
        if style is None:
            return None
        if what == "level" and style.level is not None:
            return _level(style.level)
        if what == "level" and 1 <= style.sti <= 9:
            return style.sti
        if what == "size" and style.size is not None:
            return style.size
        if style.base == _NO_STYLE:
            return None
        istd = style.base
    return None


def _level(outline_level: int) -> int:
    return outline_level + 1 if 0 <= outline_level <= 8 else 0


def _styles(table: bytes, fc: int, size: int) -> dict[int, Style]:
    """The stylesheet's styles by istd: identity, base, and the level and size each sets itself."""
    stsh = table[fc : fc + size]
    if len(stsh) < 6:
        return {}
    header_size, count, base_size = struct.unpack_from("<HHH", stsh, 0)
    styles: dict[int, Style] = {}
    at = 2 + header_size
    for istd in range(count):
        if at + 2 > len(stsh):
            break
        std_size = struct.unpack_from("<H", stsh, at)[0]
        std = stsh[at + 2 : at + 2 + std_size]
        at += 2 + std_size
        if len(std) < max(base_size, 6) + 2:
            continue
        sti = struct.unpack_from("<H", std, 0)[0] & 0x0FFF
        kind_and_base = struct.unpack_from("<H", std, 2)[0]
        upxs = _upxs(std, base_size + 2 + 2 * struct.unpack_from("<H", std, base_size)[0] + 2)
        level = type_size = None
        if kind_and_base & 0x000F == 1 and upxs:  # a paragraph style: paragraph properties (after an istd), then character properties
            found = _operand(upxs[0][2:], _OUTLINE_LEVEL)
            level = found[0] if found else None
            found = _operand(upxs[1], _TYPE_SIZE) if len(upxs) > 1 else None
            type_size = struct.unpack_from("<H", found)[0] / 2 if found and len(found) >= 2 else None
        styles[istd] = Style(sti, kind_and_base >> 4, level, type_size)
    return styles


def _upxs(std: bytes, at: int) -> list[bytes]:
    """A style's property lists (UPX), each padded to an even length."""
    out = []
    while at + 2 <= len(std):
        size = struct.unpack_from("<H", std, at)[0]
        out.append(std[at + 2 : at + 2 + size])
        at += 2 + size + size % 2
    return out


def _runs(document: bytes, table: bytes, fc: int, size: int, read) -> list[tuple[int, int, object]]:
    """(first byte, end byte, what `read(page, entries, i)` finds) of each run of paragraphs or
    of characters, by position, from the 512-byte pages a PlcBte lists."""
    plc = table[fc : fc + size]
    count = (len(plc) - 4) // 8
    runs = []
    for n in range(max(count, 0)):
        page_number = struct.unpack_from("<I", plc, 4 * (count + 1) + 4 * n)[0] & 0x3FFFFF
        page = document[page_number * _PAGE : (page_number + 1) * _PAGE]
        if len(page) < _PAGE:
            continue
        entries = page[_PAGE - 1]
        for i in range(entries):
            start, end = struct.unpack_from("<II", page, 4 * i)
            runs.append((start, end, read(page, entries, i)))
    runs.sort(key=lambda run: run[:2])
    return runs


def _papx(page: bytes, entries: int, i: int) -> tuple[int, bytes]:
    """A paragraph run's style (istd) and direct properties."""
    offset = 2 * page[4 * (entries + 1) + 13 * i]
    if not offset:
        return 0, b""
    length = page[offset]
    first, size = (offset + 1, 2 * length - 1) if length else (offset + 2, 2 * page[offset + 1])
    return struct.unpack_from("<H", page, first)[0], page[first + 2 : first + size]


def _chpx(page: bytes, entries: int, i: int) -> bytes:
    """A character run's direct properties."""
    offset = 2 * page[4 * (entries + 1) + i]
    return page[offset + 1 : offset + 1 + page[offset]] if offset else b""


def _operand(grpprl: bytes, wanted: int) -> bytes | None:
    """The operand of the sprm `wanted` in a list of sprms, if the list has it."""
    at = 0
    while at + 2 <= len(grpprl):
        sprm = struct.unpack_from("<H", grpprl, at)[0]
        at += 2
        kind = sprm >> 13  # spra: the operand's size
        if kind in (0, 1):
            size = 1
        elif kind in (2, 4, 5):
            size = 2
        elif kind == 3:
            size = 4
        elif kind == 7:
            size = 3
        elif at + 2 <= len(grpprl) and sprm in (0xD606, 0xD608):  # table definitions: a two-byte size
            size = struct.unpack_from("<H", grpprl, at)[0] + 1
        elif at < len(grpprl):
            size = grpprl[at] + 1
        else:
            return None
        if sprm == wanted:
            return grpprl[at : at + size] or None
        at += size
    return None
