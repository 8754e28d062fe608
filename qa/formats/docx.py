"""Word .docx (python-docx): paragraphs and tables in document order; heading styles become headings."""

from __future__ import annotations

import io
import zipfile

from .assemble import Extracted, TextAssembler, UnreadableFile

CELL_SEPARATOR = " | "


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
    for block in document.iter_inner_content():
        if hasattr(block, "rows"):
            for row in block.rows:
                assembler.line(CELL_SEPARATOR.join(_row_cells(row)))
            continue
        heading = _is_heading(block)
        if heading and not first_heading:
            first_heading = block.text
        assembler.line(block.text, heading=heading)
    title = document.core_properties.title or first_heading
    return assembler.result("docx", title=title)


def _is_heading(paragraph) -> bool:
    style = paragraph.style
    name = (style.name if style is not None else "") or ""
    if name == "Title" or name.startswith("Heading"):
        return True
    # Headings made by outline level rather than by a built-in style name (as localized templates do).
    level = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    return bool(level) and level[0].isdigit() and int(level[0]) < 9


def _row_cells(row) -> list[str]:
    """The row's cell texts, a merged cell once."""
    seen, cells = set(), []
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        text = " ".join(p.text for p in cell.paragraphs).strip()
        if text:
            cells.append(text)
    return cells
