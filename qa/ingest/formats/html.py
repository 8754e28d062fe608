"""HTML (selectolax): the article of a web page, not the site around it.

The page is walked once into blocks (a paragraph, a heading, a table, a line of <pre>), each
remembering the block elements it sits in. A readability-like score (qa/formats/html_content.py)
then picks the element that holds the article and leaves navigation, share bars, related-news
lists, sidebars and comments out; when nothing looks like an article (a docs index, a page of
links or tables) the whole page is kept. EPUB chapters (`read_into`) are always read whole.

h1–h3 are headings with their levels; a paragraph that is only a short bold phrase
(`<p><strong>…</strong></p>`) is a sub-heading one level below the last real heading.
Tables keep their columns (empty cells and colspans included) and every row carries its
header's labels (TextAssembler.table); a table whose cells hold paragraphs, lists or other
tables is page layout and is read as blocks. <pre> stays line by line.

Encoding: a BOM first; then bytes that are valid UTF-8 are UTF-8 whatever the <meta> says
(noted when it said otherwise); then the declared charset; then a guess.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from .assemble import Extracted, TextAssembler, UnreadableFile, collapse_spaces, counted

# `form` is not noise: ASP.NET pages wrap the whole page in one.
NOISE = "script, style, noscript, template, nav, footer, aside, svg, iframe, button, select, textarea, input, object, embed"
HEADINGS = {"h1": 1, "h2": 2, "h3": 3}
BLOCKS = {
    "address", "article", "blockquote", "body", "center", "dd", "div", "dl", "dt", "figcaption", "figure", "form", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "section", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "ul", "caption",
    "details", "summary",
}
BOLD = {"b", "strong"}
# Inside a table cell, these make the table page layout rather than data.
_LAYOUT_CONTENT = "table, ul, ol, dl, h1, h2, h3, h4, h5, h6, blockquote, pre"
_BOLD_HEADING_MAX = 40  # longer bold text is an emphasised sentence, not a sub-heading
_SENTENCE_END = tuple("。．.，,；;：:！!？?")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
# Declared charsets that are subsets of what browsers really decode them as.
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs", "iso-8859-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}


@dataclass
class Block:
    """One line of the page (or one table) and the block elements it sits in."""

    text: str
    path: tuple[int, ...]  # element ids from <body> down to the block element holding the text
    links: int = 0  # characters of the text inside <a>
    level: int = 0  # heading level; -1 for a bold sub-heading whose level depends on what precedes it
    rows: list[list[str]] = field(default_factory=list)  # a data table's cells; text is then all of them joined
    header_rows: int | None = None


def extract(data: bytes) -> Extracted:
    text, encoding, note = _decode(data)
    assembler = TextAssembler()
    title, layout = _read(text, assembler, main_content=True)
    if assembler.empty:
        raise UnreadableFile("no text in the HTML page")
    return assembler.result("html", title=title, encoding=encoding, layout=((note,) if note else ()) + layout)


def decode_html(data: bytes) -> tuple[str, str]:
    """The page's text and the encoding it was read as."""
    text, encoding, _ = _decode(data)
    return text, encoding


def _decode(data: bytes) -> tuple[str, str, str]:
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding, ""
    declared = _META_CHARSET.search(data[:4096])
    name = declared.group(1).decode("ascii").lower() if declared else ""
    # Pages are often re-saved as UTF-8 with the old <meta> left in; GBK or Big5 text is
    # almost never valid UTF-8 by chance, so valid UTF-8 wins. Pure ASCII reads the same either way.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        mismatch = name and not name.replace("-", "").startswith("utf8") and not data.isascii()
        return text, "utf-8", f"declared {name}, read as UTF-8" if mismatch else ""
    if name:
        name = _WIDER.get(name, name)
        try:
            codecs.lookup(name)
            return data.decode(name, errors="replace"), name, ""
        except LookupError:
            pass
    from .text import guess_encoding

    text, encoding = guess_encoding(data)
    if text is None:
        raise UnreadableFile(encoding)
    return text, encoding, ""


def read_into(markup: str, assembler: TextAssembler) -> str:
    """Lay out all the text of an HTML (or XHTML) document into `assembler`; returns its <title>."""
    return _read(markup, assembler, main_content=False)[0]


def _read(markup: str, assembler: TextAssembler, main_content: bool) -> tuple[str, tuple[str, ...]]:
    """Lay out the page into `assembler`; returns its title and layout notes."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title")
    title = title_node.text(deep=True) if title_node is not None else ""
    for node in tree.css(NOISE):
        node.decompose()
    if tree.body is None:
        return title, ()
    walker = _Walker()
    walker.walk(tree.body)
    blocks = walker.blocks
    if not title:
        title = next((block.text for block in blocks if block.level == 1), "")
    notes: tuple[str, ...] = ()
    if main_content:
        from .html_content import main_content_blocks

        kept = main_content_blocks(blocks, walker.elements)
        if kept is not None:
            left_out = len(blocks) - len(kept)
            notes = (
                f"main content: {len(kept)} of {len(blocks)} blocks kept (navigation, sidebars, comments left out)"
                if left_out
                else f"main content: all {len(blocks)} blocks kept",
            )
            blocks = kept
        else:
            notes = ("no main article found: the whole page kept",)
    _lay_out(blocks, assembler)
    tables = sum(1 for block in blocks if block.rows)
    return title, notes + ((counted(tables, "table"),) if tables else ())


def _lay_out(blocks: list[Block], assembler: TextAssembler) -> None:
    last_level = 0
    for block in blocks:
        if block.rows:
            assembler.table(block.rows, block.header_rows)
        elif block.level == -1:  # a bold sub-heading sits under the last real heading
            assembler.line(block.text, heading=True, level=last_level + 1)
        elif block.level:
            last_level = block.level
            assembler.line(block.text, heading=True, level=block.level)
        else:
            assembler.line(block.text)


@dataclass
class Element:
    """A block element the walker entered: for scoring which one holds the article."""

    tag: str
    parent: int  # id of the enclosing block element; -1 for <body>
    hint: str  # its class and id attributes


class _Walker:
    """Inline text gathers into the current line; a block element or <br> ends it."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.elements: list[Element] = []
        self.path: list[int] = []
        self.parts: list[str] = []
        self.chars = self.link_chars = self.bold_chars = 0
        self.in_link = self.in_bold = 0
        self.heading = 0

    def walk(self, node) -> None:
        self.enter(node)
        self.flush()

    def enter(self, node) -> None:
        """Walk a block element: its text becomes lines of its own."""
        self.flush()
        attributes = node.attributes
        self.path.append(self.new_element(node.tag, f"{attributes.get('class') or ''} {attributes.get('id') or ''}"))
        self.children(node)
        self.flush()
        self.path.pop()

    def new_element(self, tag: str, hint: str = "") -> int:
        self.elements.append(Element(tag, self.path[-1] if self.path else -1, hint.strip()))
        return len(self.elements) - 1

    def add(self, text: str) -> None:
        self.parts.append(text)
        chars = len(text) - text.count(" ")
        self.chars += chars
        self.link_chars += chars if self.in_link else 0
        self.bold_chars += chars if self.in_bold else 0

    def flush(self) -> None:
        text = collapse_spaces("".join(self.parts))
        if text:
            level = self.heading
            if not level and self._bold_heading(text):
                level = -1
            self.blocks.append(Block(text, tuple(self.path), links=self.link_chars, level=level))
        self.parts.clear()
        self.chars = self.link_chars = self.bold_chars = 0

    def _bold_heading(self, text: str) -> bool:
        # `<p><strong>短标题</strong></p>`: all of the line bold, short, not a sentence, not a link.
        return (
            self.bold_chars >= self.chars
            and len(text) <= _BOLD_HEADING_MAX
            and not text.endswith(_SENTENCE_END)
            and self.link_chars * 2 < self.chars
        )

    def children(self, node) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.add(child.text(deep=False))
            elif tag in HEADINGS:
                self.flush()
                self.heading = HEADINGS[tag]
                self.enter(child)
                self.heading = 0
            elif tag == "table" and not _is_layout(child):
                self.flush()
                self.table(child)
            elif tag == "br":
                self.flush()
            elif tag == "pre":
                self.flush()
                path = (*self.path, self.new_element("pre"))
                self.blocks.extend(Block(line, path) for line in child.text(deep=True).splitlines() if line.strip())
            elif tag in BLOCKS:
                self.enter(child)
            elif tag == "a":
                self.in_link += 1
                self.children(child)
                self.in_link -= 1
            elif tag in BOLD:
                self.in_bold += 1
                self.children(child)
                self.in_bold -= 1
            elif tag != "-comment":
                self.children(child)

    def table(self, node) -> None:
        rows, header_rows = _table_rows(node)
        if not any(any(row) for row in rows):
            return
        path = (*self.path, self.new_element("table"))
        # Its <caption> says what the table is: a line above its rows, as a printed table's title.
        caption = next((child for child in node.iter() if child.tag == "caption"), None)
        if caption is not None and (title := collapse_spaces(caption.text(deep=True))):
            self.blocks.append(Block(title, path))
        links = sum(len(collapse_spaces(link.text(deep=True))) for link in node.css("a"))
        text = " ".join(cell for row in rows for cell in row if cell)
        self.blocks.append(Block(text, path, links=links, rows=rows, header_rows=header_rows))


def _own_rows(table) -> list:
    """The <tr> of this table, not of tables nested in its cells."""
    rows = []
    for child in table.iter():
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("thead", "tbody", "tfoot"):
            rows.extend(row for row in child.iter() if row.tag == "tr")
    return rows


def _cells(row) -> list:
    return [cell for cell in row.iter() if cell.tag in ("td", "th")]


def _is_layout(table) -> bool:
    """A table used to lay out the page: a single cell, or cells holding block content
    (paragraphs, lists, tables, or lines broken by several <br>)."""
    cells = [cell for row in _own_rows(table) for cell in _cells(row)]
    if len(cells) <= 1:
        return True
    return any(
        cell.css_first(_LAYOUT_CONTENT) is not None or len(cell.css("p")) > 1 or len(cell.css("br")) > 2 for cell in cells
    )


def _table_rows(table) -> tuple[list[list[str]], int | None]:
    """The cells row by row, a spanned cell repeated in every column and row it covers;
    and how many leading rows are the header (<thead>, or rows of <th> only; None to guess)."""
    grid: list[list[str]] = []
    pending: dict[int, tuple[str, int]] = {}  # column → (text, rows still covered) from a rowspan above
    header_rows, header_done, marked = 0, False, False
    for tr in _own_rows(table):
        row: list[str] = []
        cells = _cells(tr)
        for cell in cells:
            while len(row) in pending:
                row.append(_take(pending, len(row)))
            text = _cell_text(cell)
            colspan, rowspan = _span(cell, "colspan"), _span(cell, "rowspan")
            for _ in range(colspan):
                if rowspan > 1:
                    pending[len(row)] = (text, rowspan - 1)
                row.append(text)
        while len(row) in pending:
            row.append(_take(pending, len(row)))
        grid.append(row)
        in_thead = tr.parent is not None and tr.parent.tag == "thead"
        marked |= in_thead or any(cell.tag == "th" for cell in cells)
        if not header_done and cells and (in_thead or all(cell.tag == "th" for cell in cells)):
            header_rows += 1
        else:
            header_done = True
    # <th> only down the first column (row labels) means no header row; no <th> at all: guess.
    return grid, header_rows if marked else None


def _take(pending: dict[int, tuple[str, int]], column: int) -> str:
    text, left = pending.pop(column)
    if left > 1:
        pending[column] = (text, left - 1)
    return text


def _span(cell, name: str) -> int:
    try:
        return max(1, min(int(cell.attributes.get(name) or 1), 100))  # 100: a broken page can't blow up the table
    except ValueError:
        return 1


def _cell_text(cell) -> str:
    walker = _Walker()
    walker.children(cell)
    walker.flush()
    return " ".join(block.text for block in walker.blocks)
