"""Reading a file of any supported format into the text qa indexes and cites.

One module per format, each with `extract(data: bytes) -> Extracted`. `detect_format`
looks at the content before the name, so a PDF or ZIP named `.txt` is read as what
it is and a binary file is never indexed as text.
"""

from __future__ import annotations

import importlib
from pathlib import PurePath

from .assemble import Extracted, UnreadableFile

__all__ = ["Extracted", "UnreadableFile", "detect_format", "extract", "EXTENSIONS"]

# Extension → format. Everything else is "unsupported" unless its content says otherwise.
EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".docx": "docx",
    ".doc": "doc",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".epub": "epub",
    ".rtf": "rtf",
    # Read by OCR (formats/image.py), or skipped with the command that installs it.
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
    ".webp": "image",
    ".bmp": "image",
}
MODULES = {"text": "text", "markdown": "markdown", "pdf": "pdf", "docx": "docx", "doc": "doc", "html": "html", "epub": "epub", "rtf": "rtf", "image": "image"}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of legacy Office files and of encrypted OOXML


def detect_format(name: str, data: bytes) -> str | None:
    """The format to read `data` as, by content first, then by the file name; None if unsupported."""
    by_name = EXTENSIONS.get(PurePath(name).suffix.lower())
    if b"%PDF-" in data[:1024]:  # the spec lets the marker follow some bytes of junk
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        from .zipped import zip_format

        # A ZIP named as a supported format but holding something else is named as a problem;
        # one of another name (.xlsx, .zip) is simply a type qa does not read.
        return zip_format(data) or (by_name if by_name in ("docx", "epub") else "zip" if by_name else None)
    if data.startswith(_OLE):  # a Word 97-2003 file, or another legacy Office file, or an encrypted OOXML one
        return "doc" if by_name == "doc" else "ole" if by_name else None
    if by_name == "doc":  # Word also saves RTF and web pages under a .doc name
        head = data[:1024].lstrip().lower()
        return "rtf" if head.startswith(b"{\\rtf") else "html" if b"<html" in head or b"<!doctype html" in head else "doc"
    return by_name


def extract(format_name: str, data: bytes) -> Extracted:
    """Read `data` as `format_name`; raises UnreadableFile with the reason when it can't."""
    if format_name == "zip":
        raise UnreadableFile("a ZIP archive that is neither DOCX nor EPUB")
    if format_name == "ole":
        raise UnreadableFile("a password-protected or legacy (97-2003) Office file: save it as an unprotected .docx")
    module = importlib.import_module(f".{MODULES[format_name]}", __name__)
    return module.extract(data)
