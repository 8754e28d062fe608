"""Telling the ZIP-based formats apart by what they contain, and reading members safely."""

from __future__ import annotations

import io
import zipfile

from .assemble import UnreadableFile

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one unpacked member; more is a zip bomb, not a document


def zip_format(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return "docx"
            if "META-INF/container.xml" in names or ("mimetype" in names and archive.read("mimetype").strip() == b"application/epub+zip"):
                return "epub"
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def open_zip(data: bytes, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(f"damaged {what} ({exc})") from None
    for info in archive.infolist():
        if info.file_size > MAX_MEMBER_BYTES:
            raise UnreadableFile(f"{what} member {info.filename} unpacks to {info.file_size:,} bytes (too large)")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, what: str) -> bytes:
    try:
        return archive.read(name)
    except KeyError:
        raise UnreadableFile(f"damaged {what} ({name} is missing)") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(f"damaged {what} ({name}: {exc})") from None
