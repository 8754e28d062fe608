"""Which paragraphs of a Word 97-2003 .doc are headings, and of what level: their outline level,
set on the paragraph or on its style (or a style it is based on), or a built-in heading style.

Paragraph properties sit in 512-byte pages of the WordDocument stream, found through the
PlcBtePapx of the table stream; each names its style (istd) and may set an outline level
directly (sprmPOutLvl). Styles are in the stylesheet (STSH), each with its built-in identity
(sti: 1-9 are Heading 1-9), the style it is based on, and its own paragraph properties
([MS-DOC] 2.9.271 STSH, 2.9.175 PapxFkp, 2.6.2 paragraph sprms).
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

_FC_STSHF, _FC_PLCF_BTE_PAPX = 0x00A2, 0x0102  # offsets in the file information block
_OUTLINE_LEVEL = 0x2640  # sprmPOutLvl: 0-8 are levels 1-9, 9 is body text
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


def heading_levels(document: bytes, table: bytes, pieces: list[Piece], marks: list[int]) -> dict[int, int]:
    """For each paragraph mark's CP in `marks` whose paragraph is a heading, its level (1-9)."""
    styles = _style_levels(table, *struct.unpack_from("<II", document, _FC_STSHF))
    runs = _paragraph_runs(document, table, *struct.unpack_from("<II", document, _FC_PLCF_BTE_PAPX))
    starts = [run[0] for run in runs]
    cp_starts = [piece.cp_start for piece in pieces]
    levels: dict[int, int] = {}
    for cp in marks:
        piece = pieces[bisect.bisect_right(cp_starts, cp) - 1]
        fc = piece.byte_start + (cp - piece.cp_start) * (1 if piece.one_byte else 2)
        at = bisect.bisect_right(starts, fc) - 1
        if at < 0 or not runs[at][0] <= fc < runs[at][1]:
            continue
        _, _, istd, grpprl = runs[at]
        direct = _outline_level(grpprl)
        level = _level(direct) if direct is not None else styles.get(istd, 0)
        if level:
            levels[cp] = level
    return levels


def _level(outline_level: int) -> int:
    return outline_level + 1 if 0 <= outline_level <= 8 else 0


def _style_levels(table: bytes, fc: int, size: int) -> dict[int, int]:
    """Each paragraph style's heading level (istd -> 1-9), through its chain of base styles."""
    stsh = table[fc : fc + size]
    if len(stsh) < 6:
        return {}
    header_size, count, base_size = struct.unpack_from("<HHH", stsh, 0)
    styles: dict[int, tuple[int, int, int | None]] = {}  # istd -> (sti, base istd, own outline level)
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
        kind, base = struct.unpack_from("<H", std, 2)[0] & 0x000F, struct.unpack_from("<H", std, 2)[0] >> 4
        name_chars = struct.unpack_from("<H", std, base_size)[0]
        upx_at = base_size + 2 + 2 * name_chars + 2
        own = None
        if kind == 1 and upx_at + 4 <= len(std):  # a paragraph style: its first UPX is its paragraph properties
            upx_size = struct.unpack_from("<H", std, upx_at)[0]
            own = _outline_level(std[upx_at + 4 : upx_at + 2 + upx_size])  # after the UPX's istd
        styles[istd] = (sti, base, own)
    levels = {}
    for istd in styles:
        current, level = istd, 0
        for _ in range(_STYLE_DEPTH):
            if current not in styles:
                break
            sti, base, own = styles[current]
            if own is not None:
                level = _level(own)
                break
            if 1 <= sti <= 9:
                level = sti
                break
            if base == _NO_STYLE:
                break
            current = base
        if level:
            levels[istd] = level
    return levels


def _paragraph_runs(document: bytes, table: bytes, fc: int, size: int) -> list[tuple[int, int, int, bytes]]:
    """(first byte, end byte, istd, direct properties) of each run of paragraphs, by position."""
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
            offset = 2 * page[4 * (entries + 1) + 13 * i]
            istd, grpprl = 0, b""
            if offset:
                length = page[offset]
                first, size_ = (offset + 1, 2 * length - 1) if length else (offset + 2, 2 * page[offset + 1])
                istd = struct.unpack_from("<H", page, first)[0]
                grpprl = page[first + 2 : first + size_]
            runs.append((start, end, istd, grpprl))
    runs.sort()
    return runs


def _outline_level(grpprl: bytes) -> int | None:
    """The outline level a list of paragraph sprms sets, if it sets one."""
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
        if sprm == _OUTLINE_LEVEL and at < len(grpprl):
            return grpprl[at]
        at += size
    return None
