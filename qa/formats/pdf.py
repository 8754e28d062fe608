"""PDF, from its text layer (pypdfium2), page by page.

Lines are put in reading order (top to bottom; sane for single-column pages), joined
into paragraphs where the layout says one goes on (the line before reaches the right
margin, the next is not indented and follows at the usual spacing), and lines set in a
larger type become headings. Running headers and footers — the same line, numbers
aside, at the top or bottom of most pages — and bare page numbers are left out.
"""

from __future__ import annotations

import ctypes
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from .assemble import Extracted, TextAssembler, UnreadableFile

HEADING_SIZE_RATIO = 1.15  # a line this much larger than the body type is a heading
MAX_HEADING_CHARS = 80
MARGIN_LINES = 2  # lines at the top and at the bottom of a page where running headers live
RUNNING_SHARE = 0.6  # a margin line on this share of the pages (and at least 2) repeats
_PAGE_NUMBER = re.compile(r"^[-–—\s]*(?:第\s*)?\d+\s*(?:页|頁)?(?:\s*/\s*\d+)?(?:\s*(?:页|頁))?[-–—\s]*$|^(?:page|p\.)\s*\d+(?:\s*(?:/|of)\s*\d+)?$", re.I)
_ASCII_WORD_END = re.compile(r"[A-Za-z0-9,.;:!?)]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z0-9(]")


@dataclass
class Line:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    size: float  # font size
    first_word: float  # width of the line's first word (a run of Latin letters and digits, or one character)


def extract(data: bytes) -> Extracted:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableFile("encrypted PDF (it needs a password)") from None
        raise UnreadableFile(f"damaged PDF ({_pdfium_reason(exc)})") from None
    try:
        pages = []
        for number in range(len(pdf)):
            try:
                pages.append(_page_lines(pdf[number]))
            except pdfium.PdfiumError:
                pages.append([])  # one unreadable page is counted below, not fatal
        title = (pdf.get_metadata_value("Title") or "").strip()
    finally:
        pdf.close()
    empty = sum(1 for lines in pages if not lines)
    if empty == len(pages):
        raise UnreadableFile(f"no text layer on any of its {len(pages)} page{'s' if len(pages) != 1 else ''} — scanned? (qa reads text, not images)")
    pages = _drop_running_lines(pages)
    assembler = TextAssembler()
    body_size = _body_size(pages)
    left_edge, right_edge = _text_block(pages)
    for lines in pages:
        assembler.new_page()
        for text, heading in _paragraphs(lines, body_size, left_edge, right_edge):
            assembler.line(text, heading=heading)
    warnings = (f"{empty} of {len(pages)} pages have no text layer — scanned?",) if empty else ()
    if title.lower() in ("untitled", "(untitled)", "(anonymous)"):
        title = ""
    return assembler.result("pdf", title=title, warnings=warnings)


def _pdfium_reason(exc: Exception) -> str:
    match = re.search(r"PDFium: ([^)]*)", str(exc))
    return match.group(1) if match else str(exc)


def _page_lines(page) -> list[Line]:
    """The page's text lines (pdfium marks line ends), top to bottom."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    lines: list[Line] = []
    chars: list[tuple[str, tuple[float, float, float, float, float] | None]] = []  # each with its box, if drawn

    def flush() -> None:
        boxes = [box for _, box in chars if box is not None]
        text = "".join(char for char, _ in chars).strip()
        if text and boxes:
            lines.append(
                Line(
                    text=text,
                    left=min(b[0] for b in boxes),
                    right=max(b[1] for b in boxes),
                    bottom=min(b[2] for b in boxes),
                    top=max(b[3] for b in boxes),
                    size=statistics.median(b[4] for b in boxes),
                    first_word=_first_word_width(chars),
                )
            )
        chars.clear()

    try:
        count = textpage.count_chars()
        for i in range(count):
            code = raw.FPDFText_GetUnicode(textpage, i)
            if code in (0x0D, 0x0A):
                flush()
                continue
            if 0xD800 <= code < 0xDC00 and i + 1 < count:  # a character outside the BMP comes in two halves
                low = raw.FPDFText_GetUnicode(textpage, i + 1)
                if 0xDC00 <= low < 0xE000:
                    chars.append((chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), None))
                continue
            if code == 0x02:  # pdfium's mark for a hyphen at a line end
                code = ord("-")
            elif code == 0x09:
                code = ord(" ")
            if 0xDC00 <= code < 0xE000 or code < 0x20 or code in (0xFFFE, 0xFFFF):
                continue
            box = None
            if not chr(code).isspace() and raw.FPDFText_IsGenerated(textpage, i) != 1:
                if raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top):
                    box = (left.value, right.value, bottom.value, top.value, raw.FPDFText_GetFontSize(textpage, i))
            chars.append((chr(code), box))
        flush()
    finally:
        textpage.close()
    # Reading order: rows from the top of the page down, and left to right within a row.
    return sorted(lines, key=lambda line: (-round(line.top), line.left))


def _first_word_width(chars: list[tuple[str, tuple | None]]) -> float:
    """How wide the line's first word is (a run of Latin letters and digits, or one character):
    a line before it that stopped short by less than this wrapped, its paragraph goes on."""
    word: list[tuple] = []
    for char, box in chars:
        if box is None:
            if word:
                break  # a space ends the word
            continue
        latin = char.isascii()
        if word and not latin:
            break
        word.append(box)
        if not latin:
            break  # a CJK character is a word by itself
    return max(b[1] for b in word) - min(b[0] for b in word) if word else 0.0


def _margin_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _drop_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Leave out page numbers and the lines repeated in the margins of most pages."""
    texted = [lines for lines in pages if lines]
    counts: Counter[str] = Counter()
    for lines in texted:
        counts.update({_margin_key(line.text) for line in _margins(lines)})
    needed = max(2, RUNNING_SHARE * len(texted))
    running = {key for key, n in counts.items() if n >= needed}
    kept_pages = []
    for lines in pages:
        margins = {id(line) for line in _margins(lines)}
        kept_pages.append(
            [line for line in lines if id(line) not in margins or not (_margin_key(line.text) in running or _PAGE_NUMBER.match(line.text))]
        )
    return kept_pages


def _margins(lines: list[Line]) -> list[Line]:
    return lines[:MARGIN_LINES] + lines[-MARGIN_LINES:] if len(lines) > 2 * MARGIN_LINES else list(lines)


def _body_size(pages: list[list[Line]]) -> float:
    """The type size most of the text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _text_block(pages: list[list[Line]]) -> tuple[float, float]:
    """Where body lines start and end: the common left edge and the right margin."""
    lefts = sorted(line.left for lines in pages for line in lines)
    rights = sorted(line.right for lines in pages for line in lines)
    if not lefts:
        return 0.0, 0.0
    return lefts[len(lefts) // 10], rights[(len(rights) * 9) // 10]


def _paragraphs(lines: list[Line], body_size: float, left_edge: float, right_edge: float) -> list[tuple[str, bool]]:
    """(text, is_heading) for each paragraph of a page, its lines joined."""
    result: list[tuple[str, bool]] = []
    pitches = [a.bottom - b.bottom for a, b in zip(lines, lines[1:]) if a.bottom - b.bottom > 0]
    pitch = statistics.median(pitches) if pitches else 0.0
    previous: Line | None = None
    for line in lines:
        heading = body_size > 0 and line.size >= HEADING_SIZE_RATIO * body_size and len(line.text) <= MAX_HEADING_CHARS
        char_width = line.size or body_size or 10.0
        starts_new = (
            previous is None
            or heading
            or result[-1][1]  # the line before was a heading
            # the line before stopped short of the margin by more than this line's first word needed
            or previous.right + line.first_word < right_edge - 1.5 * char_width
            or line.left > left_edge + 1.2 * char_width  # an indented first line
            or (pitch > 0 and previous.bottom - line.bottom > 1.6 * pitch)  # a gap wider than the line spacing
        )
        if starts_new:
            result.append((line.text, heading))
        else:
            text = result[-1][0]
            joiner = " " if _ASCII_WORD_END.search(text) and _ASCII_WORD_START.match(line.text) else ""
            result[-1] = (text + joiner + line.text, False)
        previous = line
    return result
