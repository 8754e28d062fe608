"""PDF, from its text layer (pypdfium2), page by page, with its layout read from geometry.

Each page's chars are grouped into runs on one baseline (pdf_layout); ruled tables are
found from the lines drawn on the page and read cell by cell (pdf_tables), each row laid
out with the header's labels. Pages set in two columns are read per band: a full-width
title, abstract or table, then the left column, then the right. Left out: rotated text
(watermarks), running headers and footers (rows in the same margin band on many pages,
even when their words change by section) and page numbers, contents entries with dot
leaders (and whole contents pages), and long runs of 1–3-char rows (a figure's labels).
Lines are joined into paragraphs where the layout says one goes on (the line before
reaches its block's right edge, the next is not indented further and follows at the usual
spacing); lines set in larger type, or numbered like a section, become headings, with
levels by size. What was found is said in `Extracted.layout`.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import replace

from . import ocr
from . import pdf_layout as layout
from . import pdf_tables as tables
from .assemble import CLAUSE_END, LETTER, SECTION_NUMBER, Extracted, TextAssembler, UnreadableFile, counted, cover_title, line_joiner, section_number_depth
from .pdf_layout import Line

HEADING_SIZE_RATIO = 1.15  # a line this much larger than the body type is a heading
MAX_HEADING_CHARS = 80
# A displayed formula is set large (its brackets, its sums), but it is not a heading.
_RELATION = re.compile(r"[=×÷√∑∏∫≤≥≈±∈→]")
_PLUS_MINUS = re.compile(r"[+−]")
# Body text in larger type is not a heading: a bulleted item, or a long line with a sentence's inner punctuation.
_BULLET = re.compile(r"^[•▪●○◦■□◆◇►▶✓✔]")
_PROSE_PUNCTUATION = re.compile(r"[，；、。]")
PROSE_CHARS = 15
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)、]|[a-z][.)]|\(\d{1,2}\)|（\d{1,2}）|[•▪●○◦■□–-])\s*\S")
# Metadata titles that only name the file it was made from ("Microsoft Word - 标准.docx").
_FILE_NAME_TITLE = re.compile(r"^Microsoft Word - |\.(?:docx?|wps|tex|pdf|pptx?|xlsx?)$", re.I)
_HEX_STRING = re.compile(r"^<[0-9A-Fa-f\s]+>$")  # a title's bytes in hex, as some writers leave it


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
                pages.append(_read_page(pdf[number]))
            except pdfium.PdfiumError:
                pages.append(layout.Page(0.0, 0.0, []))  # one unreadable page is counted below, not fatal
        title = (pdf.get_metadata_value("Title") or "").strip()
        scanned, why_no_ocr = _scanned_pages(pdf, pages)
        read = ocr.read_pages(data, scanned, lambda n: _render(pdf[n])) if scanned and not why_no_ocr else {}
    finally:
        pdf.close()
    for number in scanned:  # a thin text layer over a scan (a page number) gives way to the scan's text, or to nothing
        pages[number].segments, pages[number].tables = [], []
    empty = sum(1 for number, page in enumerate(pages) if not page.segments and not page.tables and number not in read)
    if empty == len(pages):
        s = "s" if len(pages) != 1 else ""
        raise UnreadableFile(f"no text layer on any of its {len(pages)} page{s} — scanned? ({why_no_ocr or 'qa reads text, not images'})")
    if read and not any(page.lines for page in read.values()) and empty + len(read) == len(pages):
        raise UnreadableFile(f"no text on any of its {len(pages)} page{'s' if len(pages) != 1 else ''}: no text layer, and OCR found none")
    body_size = _body_size(pages)
    running = layout.running_lines(pages, body_size)
    for page in pages:
        page.segments = [line for line in page.segments if id(line) not in running]
    notes = _Notes()
    notes.running = len(running)
    edges = _text_block(pages)
    laid_out = [_lay_out(page, number, notes, edges) for number, page in enumerate(pages, 1)]
    levels = _heading_levels(laid_out, body_size)
    assembler = TextAssembler()
    ocr_lines: list[tuple] = []
    ocr_running = ocr.running_lines(list(read.values()))
    for number, blocks in enumerate(laid_out):
        assembler.new_page()
        if number in read:
            ocr_lines += ocr.lay_out(assembler, read[number], assembler.page_starts[-1], number + 1, ocr_running)
            continue
        for block, edges in blocks:
            for text, heading, size, table in _paragraphs(block, body_size, edges):
                if table is not None:
                    assembler.table(table.rows, table.header_rows)
                else:
                    assembler.line(text, heading=heading is not None, level=levels.get((heading, size), 1))
    warnings = (f"{empty} of {len(pages)} pages have no text layer — scanned?" + (f" ({why_no_ocr})" if why_no_ocr else ""),) if empty else ()
    blank = sum(1 for page in read.values() if not page.lines)
    if blank:
        warnings += (f"{blank} of {len(pages)} pages have no text layer, and OCR found no text on {'them' if blank > 1 else 'it'}",)
    title = _decoded_title(title)
    if title.lower() in ("untitled", "(untitled)", "(anonymous)") or _FILE_NAME_TITLE.search(title):
        title = ""
    notes_lines = notes.lines() + ((ocr.note(read, len(pages)),) if read else ())
    result = assembler.result("pdf", title=title or _cover_title(pages) or (ocr.cover_title(read[0]) if 0 in read else ""), warnings=warnings, layout=notes_lines)
    return replace(result, ocr_lines=tuple(ocr_lines)) if ocr_lines else result


def _decoded_title(title: str) -> str:
    """A metadata title that some writers leave as a hex string of its bytes
    ("<4D6963726F736F6674…>", "Microsoft Word - …" in GBK), decoded; others as they are."""
    if not _HEX_STRING.match(title):
        return title
    digits = "".join(title[1:-1].split())
    data = bytes.fromhex(digits + "0" * (len(digits) % 2))  # a last odd digit is followed by 0
    for encoding in ("utf-16",) if data.startswith((b"\xfe\xff", b"\xff\xfe")) else ("utf-8", "gb18030"):
        try:
            return data.decode(encoding).strip("\x00 ")
        except UnicodeDecodeError:
            continue
    return ""


# A page is a scan to OCR when it has no text layer but draws something, or when one image
# covers most of it and its text layer is thin (a page number stamped on a scan). Measured
# on real files: scans carry 0 chars; a page set over a full-page background image, 900.
SCAN_IMAGE_AREA = 0.8
THIN_TEXT_LAYER = 40  # chars


def _scanned_pages(pdf, pages: list[layout.Page]) -> tuple[list[int], str | None]:
    """The pages to OCR, and why OCR can't run (None if it can)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    wanted = []
    for number, page in enumerate(pages):
        chars = sum(len(line.text) for line in page.segments) + sum(len(cell) for table in page.tables for row in table.rows for cell in row)
        if chars >= THIN_TEXT_LAYER:
            continue
        try:
            pdf_page = pdf[number]
            width, height = pdf_page.get_size()
            objects = list(pdf_page.get_objects(max_depth=2))
            image_area = 0.0
            for item in objects:
                if item.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                    left, bottom, right, top = item.get_bounds()
                    covered = max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
                    image_area = max(image_area, covered / (width * height or 1.0))
        except pdfium.PdfiumError:
            continue
        if (chars == 0 and objects) or image_area >= SCAN_IMAGE_AREA:
            wanted.append(number)
    return wanted, (ocr.unavailable() if wanted else None)


def _render(page) -> tuple[object, float]:
    """The page as a grey image at ocr.DPI (less for a page too large for ocr.MAX_SIDE px), and its pixels per point."""
    width, height = page.get_size()
    scale = min(ocr.DPI / 72, ocr.MAX_SIDE / max(width, height, 1.0))
    return page.render(scale=scale, grayscale=True).to_numpy(), scale


def _cover_title(pages: list[layout.Page]) -> str:
    """The first page's largest type, where a cover or a paper states its title."""
    first = pages[0].segments if pages else []
    return cover_title(first, lambda line: line.size, 0.97, lambda lines: sorted(lines, key=lambda line: (-line.top, line.left)))


def _pdfium_reason(exc: Exception) -> str:
    match = re.search(r"PDFium: ([^)]*)", str(exc))
    return match.group(1) if match else str(exc)


def _read_page(page) -> layout.Page:
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        chars, rotated, diagonal = layout.read_chars(textpage)
    finally:
        textpage.close()
    found = []
    if chars:
        horizontal, vertical = tables.rulings(page)
        for grid in tables.find_tables(horizontal, vertical):
            table, chars = tables.fill_table(grid, chars)
            if table.rows:
                found.append(table)
        if groups := tables.open_table_rules(horizontal, vertical):
            for table in tables.find_open_tables(groups, layout.segments(chars)):
                found.append(table)
                chars = [char for char in chars if not tables.inside(table, char)]
    return layout.Page(width, height, layout.segments(chars), found, rotated, diagonal)


class _Notes:
    """What the layout pass found, for Extracted.layout."""

    def __init__(self) -> None:
        self.two_column = 0
        self.tables = 0
        self.toc_pages: list[int] = []
        self.watermarked = 0
        self.rotated = 0
        self.figure_labels = 0
        self.running = 0

    def lines(self) -> tuple[str, ...]:
        notes = []
        if self.two_column:
            notes.append(counted(self.two_column, "two-column page"))
        if self.tables:
            notes.append(counted(self.tables, "table"))
        if self.toc_pages:
            first, last = self.toc_pages[0], self.toc_pages[-1]
            notes.append(f"TOC on page{'s' if last > first else ''} {first}{f'–{last}' if last > first else ''} left out")
        if self.watermarked:
            notes.append(f"watermark left out on {counted(self.watermarked, 'page')}")
        if self.rotated:
            notes.append(f"rotated text left out on {counted(self.rotated, 'page')}")
        if self.running:
            notes.append("running headers, footers and page numbers left out")
        if self.figure_labels:
            notes.append(f"figure labels left out on {counted(self.figure_labels, 'page')}")
        return tuple(notes)


def _lay_out(page: layout.Page, number: int, notes: _Notes, page_edges: tuple[float, float]) -> list[tuple[list[Line], tuple[float, float]]]:
    """The page's blocks of rows in reading order, each with its left and right text edges
    (the document's on a one-column page, the column's own on a two-column one)."""
    if page.diagonal:
        notes.watermarked += 1
    elif page.rotated:
        notes.rotated += 1
    blocks, two_column = layout.reading_order(page)
    notes.two_column += two_column
    notes.tables += len(page.tables)
    toc = layout.toc_rows([row for block in blocks for row in block])
    if len(toc) >= 3:
        notes.toc_pages.append(number)
    stray = set().union(*(layout.stray_rows(block) for block in blocks))
    notes.figure_labels += bool(stray)
    result = []
    for block in blocks:
        kept = [row for row in block if id(row) not in toc and id(row) not in stray]
        text_rows = [row for row in kept if row.table is None]
        if not kept:
            continue
        if not two_column:
            edges = page_edges
        elif len(text_rows) >= 6:
            edges = _edges(text_rows)
        else:
            edges = (min((row.left for row in text_rows), default=0.0), max((row.right for row in text_rows), default=0.0))
        result.append((kept, edges))
    return result


def _text_block(pages: list[layout.Page]) -> tuple[float, float]:
    """Where body lines start and end on the document's pages."""
    return _edges([line for page in pages for line in page.segments])


def _edges(lines: list[Line]) -> tuple[float, float]:
    """The common left edge and the right margin of `lines` (a tenth of them may stick out)."""
    if not lines:
        return 0.0, 0.0
    lefts, rights = sorted(line.left for line in lines), sorted(line.right for line in lines)
    return lefts[len(lefts) // 10], rights[(len(rights) * 9) // 10]


def _body_size(pages: list[layout.Page]) -> float:
    """The type size most of the text is set in (weighted by letters, digits and ideographs: a
    contents page's dot leaders are not text)."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.segments:
            sizes[round(line.size, 1)] += sum(ch.isalnum() for ch in line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _heading_kind(line: Line, body_size: float) -> str | None:
    """"size" for a line in larger type, "number" for a body-size line numbered like a section."""
    text = line.text
    if CLAUSE_END.search(text) or body_size <= 0:
        return None
    if _is_formula(text):
        return None
    prose = _BULLET.match(text) or (len(text) > PROSE_CHARS and _PROSE_PUNCTUATION.search(text))
    if line.size >= HEADING_SIZE_RATIO * body_size and len(text) <= MAX_HEADING_CHARS and not prose:
        return "size"
    numbered = section_number_depth(text) > 0
    if line.size >= 0.95 * body_size and numbered:
        return "number"
    return None


def _is_formula(text: str) -> bool:
    """A line of a displayed formula: a relation or operator no section title uses ("D = 1 − Vin/Vout"),
    a sum whose letters are under half of it ("1 + x × [ f(x) + g(x) ] c", not "C++ 程序设计"), a few
    Latin letters ("dt" of a fraction), or no letters at all."""
    characters = "".join(text.split())
    letters = len(LETTER.findall(characters))
    if letters == 0 or (len(characters) <= 3 and characters.isascii()) or _RELATION.search(text):
        return True
    return bool(_PLUS_MINUS.search(text)) and letters <= len(characters) / 2


def _in_formula(block: list[Line], index: int) -> bool:
    """Whether block[index] is a line of a displayed formula without an operator of its own (a
    fraction's "Fpwm Vout 2 Iripple"): Latin letters and digits only, unnumbered, next to a formula."""
    text = block[index].text
    if not text.isascii() or SECTION_NUMBER.match(text):
        return False
    return any(0 <= i < len(block) and block[i].table is None and _is_formula(block[i].text) for i in (index - 1, index + 1))


def _heading_levels(laid_out: list, body_size: float) -> dict[tuple, int]:
    """Level of each heading kind: the largest heading size is 1, the next 2…; numbered
    body-size headings come below the sized ones, one level per depth of their number."""
    sizes = sorted(
        {round(row.size * 2) / 2 for blocks in laid_out for block, _ in blocks for row in block if row.table is None and _heading_kind(row, body_size) == "size"},
        reverse=True,
    )
    levels = {("size", size): rank for rank, size in enumerate(sizes, 1)}
    for depth in range(1, 7):  # below a title in larger type, if there is one
        levels[("number", depth)] = min(6, depth + bool(sizes))
    return levels


def _paragraphs(block: list[Line], body_size: float, edges: tuple[float, float]) -> list[tuple[str, str | None, object, object]]:
    """(text, heading kind or None, level key, table or None) for each paragraph of a block, its lines joined."""
    left_edge, right_edge = edges
    result: list[list] = []
    pitches = [a.bottom - b.bottom for a, b in zip(block, block[1:]) if a.bottom - b.bottom > 0]
    pitch = statistics.median(pitches) if pitches else 0.0
    previous: Line | None = None
    for index, line in enumerate(block):
        if line.table is not None:
            result.append(["", None, None, line.table, ""])
            previous = None
            continue
        kind = _heading_kind(line, body_size)
        if kind == "size" and _in_formula(block, index):
            kind = None
        char_width = line.size or body_size or 10.0
        starts_new = (
            previous is None
            or kind == "size"
            or result[-1][1] == "size"  # the line before was a heading
            or len(line.parts) >= 3  # a row of cells set apart (a table drawn without rules)
            or len(previous.parts) >= 3
            or _LIST_ITEM.match(line.text) is not None
            # the line before stopped short of its block's edge by more than this line's first word needed
            or previous.right + line.first_word < _block_right(block, index - 1, edges, char_width) - 1.5 * char_width
            or line.left > previous.left + 1.2 * char_width  # indented further than the line before: a first line
            or (pitch > 0 and previous.bottom - line.bottom > 1.6 * pitch)  # a gap wider than the line spacing
        )
        if starts_new:
            key = round(line.size * 2) / 2 if kind == "size" else line.text.split()[0].count(".") + 1 if kind else None
            result.append([line.text, kind, key, None, line.text])
        else:
            text = result[-1][0]
            result[-1][0] = text + line_joiner(text, line.text) + line.text
        previous = line
    # A numbered line is a heading only when it stands alone; joined with the next, it is a clause.
    for paragraph in result:
        if paragraph[1] == "number" and paragraph[0] != paragraph[4]:
            paragraph[1] = paragraph[2] = None
    return [tuple(paragraph[:4]) for paragraph in result]


def _block_right(block: list[Line], index: int, edges: tuple[float, float], char_width: float) -> float:
    """The right edge of an indented run of lines that are mostly full (a quotation set in from
    both sides), or the block's edge."""
    indent = block[index].left
    if abs(indent - edges[0]) < 0.5 * char_width:
        return edges[1]
    run = [block[index]]
    for step in (-1, 1):
        i = index + step
        while 0 <= i < len(block) and block[i].table is None and abs(block[i].left - indent) < 0.5 * char_width:
            run.append(block[i])
            i += step
    right = max(line.right for line in run)
    full = sum(1 for line in run if line.right > right - char_width)
    return right if len(run) >= 3 and full >= len(run) / 2 else edges[1]
