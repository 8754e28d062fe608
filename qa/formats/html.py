"""HTML (selectolax): the page's text without scripts, styles and navigation; h1–h3 become headings.

The declared charset is honoured (GBK and Big5 pages are common); BOMs first, then the
<meta> declaration, then UTF-8, then a guess.
"""

from __future__ import annotations

import codecs
import re

from .assemble import Extracted, TextAssembler, UnreadableFile

NOISE = "script, style, noscript, template, nav, footer, aside, svg, iframe, form, button, select"
HEADINGS = {"h1", "h2", "h3"}
BLOCKS = {
    "address", "article", "blockquote", "body", "dd", "div", "dl", "dt", "figcaption", "figure", "h4", "h5", "h6",
    "header", "hr", "li", "main", "ol", "p", "section", "table", "tbody", "thead", "tfoot", "ul", "caption", "details", "summary",
}
CELL_SEPARATOR = " | "
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
# Declared charsets that are subsets of what browsers really decode them as.
_WIDER = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs", "iso-8859-1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}


def extract(data: bytes) -> Extracted:
    text, encoding = decode_html(data)
    assembler = TextAssembler()
    title = read_into(text, assembler)
    if assembler.empty:
        raise UnreadableFile("no text in the HTML page")
    return assembler.result("html", title=title, encoding=encoding)


def decode_html(data: bytes) -> tuple[str, str]:
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        name = _WIDER.get(name, name)
        try:
            codecs.lookup(name)
            return data.decode(name, errors="replace"), name
        except LookupError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        from .text import guess_encoding

        text, encoding = guess_encoding(data)
        if text is None:
            raise UnreadableFile(encoding) from None
        return text, encoding


def read_into(markup: str, assembler: TextAssembler) -> str:
    """Lay out the text of an HTML (or XHTML) document into `assembler`; returns its <title>."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    title_node = tree.css_first("title")
    title = title_node.text(deep=True) if title_node is not None else ""
    for node in tree.css(NOISE):
        node.decompose()
    if tree.body is not None:
        _Walker(assembler).block(tree.body)
    return title


class _Walker:
    """Inline text gathers into the current line; a block element or <br> ends it."""

    def __init__(self, assembler: TextAssembler):
        self.assembler = assembler
        self.parts: list[str] = []

    def flush(self, heading: bool = False) -> None:
        self.assembler.line("".join(self.parts), heading=heading)
        self.parts.clear()

    def block(self, node) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.parts.append(child.text(deep=False))
            elif tag in HEADINGS:
                self.flush()
                self.parts.append(child.text(deep=True, separator=""))
                self.flush(heading=True)
            elif tag == "tr":
                self.flush()
                cells = [cell.text(deep=True, separator=" ").strip() for cell in child.iter() if cell.tag in ("td", "th")]
                self.assembler.line(CELL_SEPARATOR.join(cell for cell in cells if cell))
            elif tag == "br":
                self.flush()
            elif tag == "pre":
                self.flush()
                for line in child.text(deep=True).splitlines():
                    self.assembler.line(line)
            elif tag in BLOCKS:
                self.flush()
                self.block(child)
                self.flush()
            elif tag not in ("-comment",):
                self.block(child)
