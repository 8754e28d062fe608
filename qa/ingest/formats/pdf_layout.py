"""Where the text on a PDF page is: chars read from pdfium, runs of them (segments), rows,
columns, and the lines a reader skips (rotated text, running headers, contents pages,
diagram labels).

Segments are built from geometry, not from pdfium's line ends: a run of chars on one
baseline, broken where the gap is wider than a space — so two columns set on the same
baseline stay apart, and a table cell stays its own run.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

SEGMENT_GAP = 0.9  # a horizontal gap this many ems wide ends a segment (a column gutter, a cell)
ROTATION_TOLERANCE = math.radians(2)
MARGIN_LINES = 2  # rows at each end of a page where running headers and footers live
MARGIN_SHARE = 0.4  # a margin band holding a row on this share of the pages (and ≥ 3) is running text
RUNNING_SHARE = 0.6  # the same margin text (numbers aside) on this share of pages (and ≥ 2) repeats
STRAY_RUN = 6  # this many rows in a row of ≤ 3 chars each are a figure's labels
TOC_PAGE_SHARE = 0.4  # a page whose rows are this share (and ≥ 3) contents entries is a contents page
_TOC_LINE = re.compile(r"(?:[.·…．・]\s*){4,}\s*[-–—]?\s*(?:\d+|[ivxlcdm]+)\s*[-–—]?\s*$", re.I)  # "… 14", "… - 3 -"
PAGE_NUMBER = re.compile(
    r"^[-–—\s]*(?:第\s*)?\d+\s*(?:页|頁)?(?:\s*(?:/|of)\s*\d+)?(?:\s*(?:页|頁))?[-–—\s]*$|^(?:page|p\.)\s*\d+(?:\s*(?:/|of)\s*\d+)?$|^[ivxlc]+$",
    re.I,
)


@dataclass
class Char:
    text: str
    left: float
    right: float
    bottom: float
    top: float
    size: float
    space_before: bool  # pdfium put a space (or a line end) before it


@dataclass
class Line:
    """A segment, or a row of segments on one baseline; tables take the same place in reading order."""

    text: str
    left: float
    right: float
    top: float
    bottom: float
    size: float  # font size
    first_word: float  # width of the line's first word (a run of Latin letters and digits, or one character)
    parts: list["Line"] = field(default_factory=list)  # the segments of a row
    table: object = None  # a pdf_tables.Table standing in reading order

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class Page:
    width: float
    height: float
    segments: list[Line]
    tables: list = field(default_factory=list)
    rotated: int = 0  # rotated chars left out
    diagonal: int = 0  # of them, set at a slant (a watermark)


def read_chars(textpage) -> tuple[list[Char], int, int]:
    """The page's drawn chars in drawing order, without rotated ones; and how many were rotated, and diagonal."""
    import pypdfium2.raw as raw

    rect = raw.FS_RECTF()
    matrix = raw.FS_MATRIX()
    chars: list[Char] = []
    rotated: list[Char] = []
    angles: list[float] = []
    space = False
    count = textpage.count_chars()
    for i in range(count):
        code = raw.FPDFText_GetUnicode(textpage, i)
        if 0xD800 <= code < 0xDC00 and i + 1 < count:  # a character outside the BMP comes in two halves
            low = raw.FPDFText_GetUnicode(textpage, i + 1)
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) if 0xDC00 <= low < 0xE000 else 0xFFFD
        elif code == 0x02:  # pdfium's mark for a hyphen at a line end
            code = ord("-")
        if code < 0x20 or chr(code).isspace() or raw.FPDFText_IsGenerated(textpage, i) == 1:
            space = True
            continue
        if 0xDC00 <= code < 0xE000 or code in (0xFFFE, 0xFFFF) or not raw.FPDFText_GetLooseCharBox(textpage, i, rect):
            continue
        has_matrix = raw.FPDFText_GetMatrix(textpage, i, matrix)
        size = raw.FPDFText_GetFontSize(textpage, i)
        if size <= 1.0 and has_matrix:
            # A font set at size 1 and scaled by the text matrix, as some writers do: its type
            # size is the matrix's scale (1 pt type does not occur; sizes given are kept).
            size *= math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
        char = Char(chr(code), rect.left, rect.right, rect.bottom, rect.top, size, space)
        space = False
        # The baseline's direction, from the char's matrix (pdfium's char angle counts an italic's slant too).
        angle = math.atan2(matrix.b, matrix.a) % (2 * math.pi) if has_matrix else 0.0
        if min(angle, 2 * math.pi - angle) > ROTATION_TOLERANCE:
            rotated.append(char)
            angles.append(angle)
        else:
            chars.append(char)
    if len(rotated) > len(chars):  # the page's own text runs rotated: keep it, in drawing order
        return chars + rotated, 0, 0
    diagonal = sum(1 for angle in angles if math.radians(10) < angle % (math.pi / 2) < math.radians(80))
    return chars, len(rotated), diagonal


def segments(chars: list[Char]) -> list[Line]:
    """Runs of chars on one baseline with no wide gap, in drawing order."""
    result: list[Line] = []
    run: list[Char] = []
    for char in chars:
        if run:
            previous = run[-1]
            em = max(char.size, previous.size, 1.0)
            if (
                abs((char.top + char.bottom) - (previous.top + previous.bottom)) / 2 > 0.4 * em
                or char.left - previous.right > SEGMENT_GAP * em
                or char.left < previous.left - 0.5 * em  # drawn back to the left: another line
            ):
                result.append(_segment(run))
                run = []
        run.append(char)
    if run:
        result.append(_segment(run))
    return result


def _segment(run: list[Char]) -> Line:
    text = ""
    for i, char in enumerate(run):
        if i and (char.space_before or char.left - run[i - 1].right > 0.3 * char.size):
            text += " "
        text += char.text
    word = [run[0]]
    for char in run[1:]:
        if not (char.text.isascii() and word[-1].text.isascii()) or char.space_before:
            break
        word.append(char)
    return Line(
        text=text,
        left=min(c.left for c in run),
        right=max(c.right for c in run),
        bottom=statistics.median(c.bottom for c in run),
        top=statistics.median(c.top for c in run),
        size=statistics.median(c.size for c in run),
        first_word=word[-1].right - word[0].left,
    )


def rows(lines: list[Line]) -> list[Line]:
    """Segments side by side on one baseline joined into a row, rows top to bottom."""
    result: list[Line] = []
    for line in sorted(lines, key=lambda line: -line.top):
        row = result[-1] if result else None
        if row is not None and row.table is None and line.table is None and abs(line.middle - row.middle) < 0.5 * max(row.top - row.bottom, 1.0):
            row.parts.append(line)
            continue
        result.append(Line(line.text, line.left, line.right, line.top, line.bottom, line.size, line.first_word, [line], line.table))
    for row in result:
        if len(row.parts) > 1:
            row.parts.sort(key=lambda part: part.left)
            first = row.parts[0]
            row.text = " ".join(part.text for part in row.parts)
            row.left, row.right = first.left, max(part.right for part in row.parts)
            row.top, row.bottom = max(part.top for part in row.parts), min(part.bottom for part in row.parts)
            row.size, row.first_word = max(row.parts, key=lambda part: len(part.text)).size, first.first_word
    return result


def running_lines(pages: list[Page], body_size: float) -> set[int]:
    """ids of the segments that are running headers, footers and page numbers.

    A margin row is an outermost row at the top or bottom of a page. Set apart from the text by
    a gap, it is running text when rows sit in the same band on many pages (a header that
    carries the section title changes its words, not its place), when the same words recur,
    or when it is a page number; set close to the text, only when the same words recur.
    """
    candidates = []  # (end, baseline, page number, row, set apart by a gap)
    for number, page in enumerate(pages):
        page_rows = rows(page.segments + [_stand_in(table) for table in page.tables])
        for end, ordered in (("top", page_rows), ("bottom", page_rows[::-1])):
            # A row is outermost only with more rows inward than outward at both ends.
            for depth in range(min(MARGIN_LINES, (len(ordered) - 1) // 2)):
                row, inner = ordered[depth], ordered[depth + 1]
                if row.table is not None:
                    break
                gap = row.bottom - inner.top if end == "top" else inner.bottom - row.top
                needed = 0.0 if inner.table is not None else 0.8 * (row.top - row.bottom)  # a table ends at its rule
                apart = gap >= needed or PAGE_NUMBER.match(row.text) is not None
                candidates.append((end, row.bottom, number, row, apart))
                if not apart:  # set close to the text: running only if its words recur (below)
                    break
    texted = sum(1 for page in pages if page.segments)
    running: set[int] = set()
    keys = Counter(key for key, _ in {(_margin_key(row.text), number) for _, _, number, row, _ in candidates})  # pages per text
    for end, baseline, _, row, apart in candidates:
        band_pages = {n for e, b, n, _, a in candidates if a and e == end and abs(b - baseline) <= 4}
        if (
            keys[_margin_key(row.text)] >= max(2, RUNNING_SHARE * texted)
            or apart and (PAGE_NUMBER.match(row.text) or (len(band_pages) >= max(3, MARGIN_SHARE * texted) and row.size <= 1.1 * body_size))
        ):
            running.update(id(part) for part in row.parts)
    return running


def _margin_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def reading_order(page: Page) -> tuple[list[list[Line]], bool]:
    """The page's rows in reading order, as blocks (a full-width band, or one column of a band);
    and whether the page is set in two columns."""
    items = page.segments + [_stand_in(table) for table in page.tables]
    gutter = _gutter(items, page.width)
    if gutter is None:
        return [rows(items)], False
    blocks: list[list[Line]] = []
    left: list[Line] = []
    right: list[Line] = []
    full: list[Line] = []

    def close_columns() -> None:
        blocks.extend(rows(side) for side in (left, right) if side)
        left.clear()
        right.clear()

    # Row by row: a row with a part across the gutter is all full-width (a formula's pieces),
    # and so is a row between two such rows (a caption centred on the gutter: "图 2  通栏图片示例"),
    # which read left to right is in column order anyway; else its parts go to their columns.
    bands = rows(items)
    parts_of = [row.parts if row.table is None else [row] for row in bands]
    across = [any(part.left < gutter < part.right for part in parts) for parts in parts_of]
    across = [a or (0 < i < len(across) - 1 and across[i - 1] and across[i + 1]) for i, a in enumerate(across)]
    for parts, wide in zip(parts_of, across):
        if wide:  # a full-width title, abstract or table ends the band above
            close_columns()
            full.extend(parts)
            continue
        if full:
            blocks.append(rows(full))
            full.clear()
        for part in parts:
            (left if part.right <= gutter else right).append(part)
    close_columns()
    if full:
        blocks.append(rows(full))
    return blocks, True


def _stand_in(table) -> Line:
    """A table's place among the lines."""
    return Line("", table.left, table.right, table.top, table.bottom, 0.0, 0.0, table=table)


def _gutter(items: list[Line], width: float) -> float | None:
    """The x of a vertical gap between two columns of text, if the page has one. A table in a
    column counts as many lines there as it has rows."""
    if _line_count(items) < 10 or width <= 0:
        return None
    # The gutter: the x with most long lines ending left of it and starting right of it, less
    # the lines crossing it (a full-width band crosses it; a column's lines do not).
    long = [item for item in items if item.right - item.left >= 0.2 * width]
    best = None
    for x in range(int(0.35 * width), int(0.65 * width), 2):
        crossing = sum(1 for item in items if item.left < x - 1 and item.right > x + 1)
        score = min(_line_count(item for item in long if item.right <= x), _line_count(item for item in long if item.left >= x)) - crossing
        if best is None or score > best[0]:
            best = (score, x, x)
        elif score == best[0] and x - best[2] <= 2:
            best = (score, best[1], x)  # widen the gap
    if best is None or best[0] <= 0:
        return None
    x = (best[1] + best[2]) / 2
    left = [item for item in items if item.right <= x]
    right = [item for item in items if item.left >= x]
    if _line_count(left) < 4 or _line_count(right) < 4 or not any(item.table is None for item in left) or not any(item.table is None for item in right):
        return None
    # Columns hold full lines (a figure's labels or a key/value list are not columns)…
    start, end = min(item.left for item in left), max(item.right for item in right)
    full = [_line_count(item for item in side if item.right - item.left >= 0.5 * width) for side, width in ((left, x - start), (right, end - x))]
    if min(full) < 1 or sum(full) < 6:
        return None
    # …and stand side by side.
    beside = sum(1 for item in right if any(other.bottom < item.top and item.bottom < other.top for other in left))
    return x if beside >= 3 else None


def _line_count(items) -> int:
    """How many lines items take: a table as many as its rows."""
    return sum(len(item.table.rows) if item.table is not None else 1 for item in items)


def is_toc_line(text: str) -> bool:
    """A contents entry: a title, dot leaders, a page number."""
    return bool(_TOC_LINE.search(text))


def toc_rows(page_rows: list[Line]) -> set[int]:
    """ids of the rows to leave out as contents entries: dot-leader lines anywhere, and on a
    contents page also its title and the entries set without leaders (a page number apart)."""
    entries = {id(row) for row in page_rows if row.table is None and is_toc_line(row.text)}
    if len(entries) < max(3, TOC_PAGE_SHARE * len(page_rows)):
        return entries
    for row in page_rows:
        last = row.parts[-1] if row.parts else row
        if len(row.parts) > 1 and PAGE_NUMBER.match(last.text) and row.text[:1].isalnum():
            entries.add(id(row))  # "1 Introduction        5"
    first = next((row for row in page_rows if row.table is None), None)
    if first is not None and id(first) not in entries and len(first.text) <= 20:
        entries.add(id(first))  # the page's title: 目录, Contents
    return entries


def stray_rows(block: list[Line]) -> set[int]:
    """ids of rows in long runs of 1–3-char rows: a figure's labels, read as text."""
    stray: set[int] = set()
    run: list[Line] = []
    for row in block + [None]:
        if row is not None and row.table is None and len(row.text.replace(" ", "")) <= 3:
            run.append(row)
            continue
        if len(run) >= STRAY_RUN:
            stray.update(id(r) for r in run)
        run = []
    return stray
