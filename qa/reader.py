"""Reading a corpus directory: every .txt and .md file, decoded, in sorted order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInputError
from .models import Document

SUFFIXES = (".txt", ".md", ".markdown")


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def read_corpus(corpus_dir: Path, follow_outside_links: bool = False) -> tuple[list[Document], list[Skipped]]:
    """Decode every text file under `corpus_dir`; files that can't be read are skipped, not fatal."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.exists():
        raise BadInputError(f"corpus directory not found: {corpus_dir}")
    if not corpus_dir.is_dir():
        raise BadInputError(f"not a directory: {corpus_dir}")
    root = corpus_dir.resolve()
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for path in _walk(root, follow_outside_links, skipped):
        rel = path.relative_to(root).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(rel, f"cannot read ({exc.strerror or exc})"))
            continue
        text, reason = decode(data)
        if text is None:
            skipped.append(Skipped(rel, reason))
            continue
        documents.append(Document(path=rel, text=text, encoding=reason))
    return documents, skipped


def _walk(root: Path, follow_outside_links: bool, skipped: list[Skipped]) -> list[Path]:
    """Sorted text files under root. Symlinks are followed only while they stay inside root
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
                    visit(path)
                elif entry.is_file() and entry.name.lower().endswith(SUFFIXES):
                    found.append(path)
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


def decode(data: bytes) -> tuple[str | None, str]:
    """Return (text, encoding) or (None, reason for skipping)."""
    if not data.strip():
        return None, "empty file"
    # BOMs are unambiguous; check them before any guessing.
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return _strip_nul(data.decode(encoding, errors="replace")), encoding
    try:
        return _strip_nul(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_binary(data):
        return None, "binary file"
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16", "utf_16_le", "utf_16_be", "shift_jis", "euc_kr", "cp1252"]).best()
    if best is None:
        return None, "cannot detect the text encoding"
    return _strip_nul(str(best)), best.encoding


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    # UTF-16 without BOM has many NULs too, but alternating with text bytes.
    nul = head.count(b"\x00")
    if nul == 0:
        return False
    even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
    utf16_like = max(even, odd) > 0.3 * len(head) / 2 and min(even, odd) < 0.05 * len(head) / 2
    return not utf16_like


def _strip_nul(text: str) -> str:
    # A stray NUL is noise; replace it with a space so offsets stay honest to the text we keep.
    return text.replace("\x00", " ")
