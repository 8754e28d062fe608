"""Word .docx (python-docx): paragraphs and tables in document order.

Headings are paragraphs styled Title / Heading N, or given an outline level by their style
(localized and custom templates name their heading styles anything: 章标题, 一级条标题).
A table of data is laid out row by row, every row with its header's labels; merged cells
repeat their text in each column and row they cover. A table of one row or one column is
page layout (a cover, a title in a box): its cells are read as paragraphs.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from .assemble import Extracted, TextAssembler, UnreadableFile, counted, largest_type

TITLE_PARAGRAPHS = 30  # a cover's title is among the first paragraphs
STYLE_DEPTH = 9  # styles looked through along a chain of base styles


def extract(data: bytes) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"damaged DOCX ({exc})") from None
    except Exception as exc:  # lxml's XMLSyntaxError and kin: a broken part is damage, not a crash
        raise UnreadableFile(f"damaged DOCX ({type(exc).__name__}: {str(exc)[:80]})") from None
    assembler = TextAssembler()
    first_heading = ""
    tables = toc_lines = 0
    opening: list = []  # body paragraphs before the first heading, where a cover states the title
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            rows = _rows(block)
            if len(rows) > 1 and max(len(row) for row in rows) > 1:
                tables += 1
                assembler.table(rows, _header_rows(block))
            else:
                for cell in dict.fromkeys(cell for row in rows for cell in row):
                    assembler.line(cell)
            continue
        if _is_toc(block):
            toc_lines += 1  # contents lines repeat the headings, with page numbers: not passages
            continue
        level = heading_level(block)
        if level and not first_heading:
            first_heading = block.text
        elif not level and not first_heading and block.text.strip():
            opening.append(block)
        assembler.line(block.text, heading=bool(level), level=level or 1)
    title = _title(document, assembler, opening) or first_heading
    layout = ((counted(tables, "table"),) if tables else ()) + ((f"table of contents ({toc_lines} lines) left out",) if toc_lines else ())
    return assembler.result("docx", title=title, layout=layout)


def _is_toc(paragraph) -> bool:
    style = paragraph.style
    return style is not None and (style.name or "").lower().startswith("toc ")


def _title(document, assembler: TextAssembler, opening: list) -> str:
    """The core properties' title when the text bears it out (templates leave placeholders
    such as "标准名称" there), else the cover's largest type before the first heading."""
    stated = (document.core_properties.title or "").strip()
    if stated and "".join(stated.split()) in "".join(assembler.text().split()):
        return stated
    return largest_type([(_type_size(p), p.text.strip()) for p in opening[:TITLE_PARAGRAPHS]])


def _type_size(paragraph) -> float:
    """The paragraph's largest run size in points, from its runs or else its style chain."""
    sizes = [run.font.size.pt for run in paragraph.runs if run.font.size is not None and run.text.strip()]
    if sizes:
        return max(sizes)
    return next((style.font.size.pt for style in _style_chain(paragraph.style) if style.font.size is not None), 0.0)


def heading_level(paragraph) -> int:
    """1 for a top heading, 2 below it…; 0 for body text."""
    style = paragraph.style
    name = (style.name if style is not None else "") or ""
    if name == "Title":
        return 1
    if name.startswith("Heading"):
        digits = name[len("Heading") :].strip()
        return int(digits) + 1 if digits.isdigit() else 2  # below a Title
    # Headings made by outline level rather than by a built-in style name (as localized templates
    # do), on the paragraph or on its style and the styles it is based on.
    for properties in [paragraph._p.pPr, *(style.element.pPr for style in _style_chain(style))]:
        level = properties.xpath("./w:outlineLvl/@w:val") if properties is not None else []
        if level:
            return int(level[0]) + 2 if level[0].isdigit() and int(level[0]) < 9 else 0
    return 0


def _style_chain(style) -> Iterator:
    """The style and the styles it is based on, nearest first (STYLE_DEPTH at most: a damaged
    file's styles may be based on each other in a loop)."""
    for _ in range(STYLE_DEPTH):
        if style is None:
            return
        yield style
        style = style.base_style


def _rows(table) -> list[list[str]]:
    """Each row's cell texts, one per grid column: a merged cell repeats in every column and
    row it covers, so no column shifts."""
    return [[" ".join(p.text for p in cell.paragraphs).strip() for cell in row.cells] for row in table.rows]


def _header_rows(table) -> int | None:
    """The rows Word repeats as a header on each page; None (guess) when none is marked."""
    marked = 0
    for row in table.rows:
        if not row._tr.xpath("./w:trPr/w:tblHeader"):
            break
        marked += 1
    return marked or None
