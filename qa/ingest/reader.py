"""Reading a corpus directory: every file of a supported format, in sorted order.

Files of other types are reported as unsupported, and files that cannot be read
(damaged, encrypted, binary, no text) as skipped with the reason; neither stops the others.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from ..errors import BadInputError
from ..models import Document
from .formats import EXTENSIONS, UnreadableFile, detect_format, extract
from .formats.ocr import reporting_pages

SNIFF_BYTES = 1024  # a PDF's %PDF- marker may stand anywhere in its first kilobyte


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str
    kind: str = "unreadable"  # "unsupported": a file type qa does not read; "unreadable": a file it could not

    @property
    def extension(self) -> str:
        return PurePath(self.path).suffix.lower() or "(none)"


def read_corpus(
    corpus_dir: Path,
    follow_outside_links: bool = False,
    known: dict[str, Document] | None = None,
    on_ocr_page: Callable[[str, int, int], None] | None = None,
    leave_out: Callable[[Path], bool] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """Read every file under `corpus_dir`; files that can't be read are skipped, not fatal.

    `known` documents (by path) are reused as they are when their file's size and
    modification time have not changed, so an unchanged PDF is not parsed again.
    `on_ocr_page(path, done, total)` hears of each page OCR reads (the slowest step a build has).
    A folder `leave_out` says yes to is not read (a build passes qa.storage's `holds_index`:
    `qa index .` keeps its index in ./embeddings, which is not part of the corpus).
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.exists():
        raise BadInputError(f"corpus directory not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise BadInputError(f"not a directory: {corpus_dir}")
    root = corpus_dir.resolve()
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for path in _walk(root, follow_outside_links, skipped, leave_out or (lambda directory: False)):
        rel = path.relative_to(root).as_posix()
        with reporting_pages(functools.partial(on_ocr_page, rel) if on_ocr_page else None):
            result = _unchanged(path, (known or {}).get(rel)) or read_file(path, rel)
        (documents if isinstance(result, Document) else skipped).append(result)
    return documents, skipped


def _unchanged(path: Path, document: Document | None) -> Document | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return document if document is not None and (stat.st_size, stat.st_mtime_ns) == (document.size, document.mtime_ns) else None


def read_file(path: Path, rel: str) -> Document | Skipped:
    """One file as a Document, or why it was skipped. The content decides the format before the name."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            head = handle.read(SNIFF_BYTES)
            # An unknown name is read only if its first bytes say PDF or ZIP (DOCX, EPUB).
            if PurePath(rel).suffix.lower() not in EXTENSIONS and b"%PDF-" not in head and not head.startswith(b"PK\x03\x04"):
                return Skipped(rel, "unsupported file type", kind="unsupported")
            data = head + handle.read()
    except OSError as exc:
        return Skipped(rel, f"cannot read ({exc.strerror or exc})")
    format_name = detect_format(rel, data)
    if format_name is None:
        return Skipped(rel, "unsupported file type", kind="unsupported")
    try:
        extracted = extract(format_name, data)
    except UnreadableFile as exc:
        return Skipped(rel, str(exc))
    return Document(
        path=rel,
        text=extracted.text,
        encoding=extracted.encoding,
        format=extracted.format,
        title=extracted.title,
        page_starts=extracted.page_starts,
        heading_starts=extracted.heading_starts,
        heading_levels=extracted.heading_levels,
        warnings=extracted.warnings,
        layout=extracted.layout,
        ocr_lines=extracted.ocr_lines,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
    )


def _walk(root: Path, follow_outside_links: bool, skipped: list[Skipped], leave_out: Callable[[Path], bool]) -> list[Path]:
    """Sorted files under root. Symlinks are followed only while they stay inside root
    (or anywhere, if asked), and each real directory is visited once, so loops end."""
    found: list[Path] = []
    seen_dirs: set[str] = set()

    def visit(directory: Path) -> None:
        real = os.path.realpath(directory)
        if real in seen_dirs:
            return
        seen_dirs.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(_rel(directory, root), f"cannot list directory ({exc.strerror})"))
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if entry.is_symlink():
                target = os.path.realpath(path)
                if not follow_outside_links and not _inside(target, root):
                    skipped.append(Skipped(_rel(path, root), "symlink points outside the corpus directory"))
                    continue
            try:
                if entry.is_dir():
                    if not leave_out(path):
                        visit(path)
                elif entry.is_file():
                    found.append(path)
                else:  # not left out in silence either
                    why = "broken symlink" if entry.is_symlink() else "not a regular file (a pipe, socket or device)"
                    skipped.append(Skipped(_rel(path, root), why))
            except OSError as exc:  # e.g. a broken link or a symlink loop
                skipped.append(Skipped(_rel(path, root), f"cannot stat ({exc.strerror})"))

    visit(root)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _inside(target: str, root: Path) -> bool:
    return target == str(root) or target.startswith(str(root) + os.sep)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
