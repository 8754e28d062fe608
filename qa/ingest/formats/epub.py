"""EPUB (a ZIP of XHTML files): chapters in spine order; each chapter's title is a heading.

A chapter without a heading of its own gets its title from the table of contents.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ElementTree
from urllib.parse import unquote

from .assemble import Extracted, TextAssembler, UnreadableFile
from .html import decode_html, read_into
from .zipped import open_zip, read_member

_NS = {"c": "urn:oasis:names:tc:opendocument:xmlns:container", "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}


def extract(data: bytes) -> Extracted:
    archive = open_zip(data, "EPUB")
    container = _xml(read_member(archive, "META-INF/container.xml", "EPUB"), "container.xml")
    rootfile = container.find(".//c:rootfile", _NS)
    if rootfile is None or not rootfile.get("full-path"):
        raise UnreadableFile("damaged EPUB (container.xml names no package file)")
    opf_path = rootfile.get("full-path")
    package = _xml(read_member(archive, opf_path, "EPUB"), opf_path)
    base = posixpath.dirname(opf_path)
    manifest = {item.get("id"): item for item in package.iterfind(".//opf:manifest/opf:item", _NS)}
    toc = _toc_titles(archive, manifest, base)
    assembler = TextAssembler()
    for itemref in package.iterfind(".//opf:spine/opf:itemref", _NS):
        item = manifest.get(itemref.get("idref"))
        if item is None or "nav" in (item.get("properties") or "").split():
            continue
        href = posixpath.normpath(posixpath.join(base, unquote(item.get("href", ""))))
        chapter = TextAssembler()
        chapter_title = read_into(decode_html(read_member(archive, href, "EPUB"))[0], chapter)
        heading = toc.get(href) or chapter_title
        if heading and not _starts_with_heading(chapter):
            assembler.line(heading, heading=True)
        _append(assembler, chapter)
    if assembler.empty:
        raise UnreadableFile("no text in the EPUB")
    title = package.findtext(".//dc:title", default="", namespaces=_NS)
    return assembler.result("epub", title=title)


def _xml(data: bytes, name: str):
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UnreadableFile(f"damaged EPUB ({name}: {exc})") from None


def _toc_titles(archive, manifest: dict, base: str) -> dict[str, str]:
    """Chapter file → its title in the EPUB 3 navigation document, when there is one."""
    nav = next((item for item in manifest.values() if "nav" in (item.get("properties") or "").split()), None)
    if nav is None:
        return {}
    nav_path = posixpath.normpath(posixpath.join(base, unquote(nav.get("href", ""))))
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(decode_html(read_member(archive, nav_path, "EPUB"))[0])
    titles = {}
    for link in tree.css("nav a[href]"):
        target = unquote(link.attributes.get("href") or "").split("#", 1)[0]
        path = posixpath.normpath(posixpath.join(posixpath.dirname(nav_path), target))
        titles.setdefault(path, link.text(deep=True).strip())
    return titles


def _starts_with_heading(chapter: TextAssembler) -> bool:
    return bool(chapter.heading_starts) and chapter.heading_starts[0] == 0


def _append(assembler: TextAssembler, chapter: TextAssembler) -> None:
    result = chapter.result("epub")
    headings = set(result.heading_starts)
    offset = 0
    for line in result.text.splitlines():
        assembler.line(line, heading=offset in headings)
        offset += len(line) + 1
