"""Which documents a search may answer from: `--doc GLOB` and `--type FORMAT`.

A filter resolves to the set of indexed document paths it selects; each backend then
restricts both legs to those documents before ranking, so a filtered search still
returns top_k passages when that many match.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property
from pathlib import PurePosixPath

from ..errors import BadInputError

FORMATS = ("text", "markdown", "pdf", "docx", "doc", "rtf", "html", "epub", "image")
_ALIASES = {"txt": "text", "md": "markdown", "htm": "html", **{ext: "image" for ext in ("png", "jpg", "jpeg", "tif", "tiff", "webp", "bmp")}}


@dataclass(frozen=True)
class Filter:
    doc_globs: tuple[str, ...] = ()  # a document matches any of them (by path, or by name)
    types: tuple[str, ...] = ()  # formats, as qa.ingest.reader names them (txt and md are accepted too)

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if _format(t) not in FORMATS]
        if unknown:
            raise BadInputError(f"unknown document type {unknown[0]!r}: use one of {', '.join(FORMATS)} (or txt, md)")

    def is_empty(self) -> bool:
        return not self.doc_globs and not self.types

    @cached_property
    def formats(self) -> frozenset[str]:
        """The types asked for, as qa.ingest.reader names them (worked out once, not per file)."""
        return frozenset(_format(t) for t in self.types)

    def matches(self, path: str, format_name: str) -> bool:
        if self.types and format_name not in self.formats:
            return False
        return not self.doc_globs or any(_glob_matches(path, glob) for glob in self.doc_globs)

    def doc_paths(self, files: list[dict]) -> frozenset[str]:
        """The indexed paths this filter selects; BadInputError when it selects none."""
        chosen = frozenset(f["path"] for f in files if self.matches(f["path"], f.get("format", "text")))
        if not chosen:
            raise BadInputError(f"no indexed document matches {self.describe()}")
        return chosen

    def describe(self) -> str:
        return " ".join([*(f"--doc {glob}" for glob in self.doc_globs), *(f"--type {t}" for t in self.types)])


def _format(name: str) -> str:
    name = name.lower().lstrip(".")
    return _ALIASES.get(name, name)


def _glob_matches(path: str, glob: str) -> bool:
    # A glob without a folder part also matches a file's name anywhere: `--doc '*.pdf'`.
    return fnmatchcase(path, glob) or ("/" not in glob and fnmatchcase(PurePosixPath(path).name, glob))
