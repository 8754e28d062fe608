"""The on-disk index directory: generations swapped in atomically, and a build lock.

    index_dir/
      CURRENT        name of the live generation (replaced atomically)
      gen-…/         one complete index (its files: qa.storage.generation)
      .tmp-…/        a generation being written; never read
      .lock          held by the one `qa index` that may write

A build writes a whole new generation, then points CURRENT at it. A reader that
opened the previous generation keeps reading it; a build that dies leaves only a
.tmp- folder, which the next build removes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from ..errors import BadInputError, IndexBusyError, IndexDamagedError

CURRENT = "CURRENT"
LOCK = ".lock"
# The names a build gives its folders: only folders so named are ever removed, so a user's own
# `gen-notes/` in a folder given as --index-dir is left alone.
_GENERATION_NAME = re.compile(r"gen-\d{14}-[0-9a-f]{6}")
_STAGING_NAME = re.compile(r"\.tmp-[0-9a-f]{12}")


def current_generation(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:  # e.g. index_dir is a file: the path is wrong, the index is not damaged
        raise BadInputError(f"cannot use {index_dir} as an index folder: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise IndexDamagedError(f"index at {index_dir} is damaged (bad CURRENT pointer)") from None
    if not name.startswith("gen-") or "/" in name or "\\" in name:
        raise IndexDamagedError(f"index at {index_dir} is damaged (bad CURRENT pointer)")
    return index_dir / name


def holds_index(directory: Path) -> bool:
    """Whether a folder is an index (its CURRENT names a generation it has) or a generation of
    one: an index kept inside its corpus folder is not part of the corpus."""
    if _GENERATION_NAME.fullmatch(directory.name) and (directory / "manifest.json").is_file():
        return True
    try:
        generation = current_generation(directory)
    except (BadInputError, IndexDamagedError):
        return False
    return generation is not None and generation.is_dir()


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Only one build at a time; a second one exits with a clear message instead of mixing files."""
    import fcntl

    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise IndexBusyError(f"another `qa index` is already building {index_dir}; wait for it to finish") from None
            raise
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def new_staging_dir(index_dir: Path) -> Path:
    """A fresh folder for a generation being written; stray ones from killed builds go first.

    Call only while holding the build lock.
    """
    for stray in index_dir.glob(".tmp-*"):
        if _STAGING_NAME.fullmatch(stray.name):
            shutil.rmtree(stray, ignore_errors=True)
    staging = index_dir / f".tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir(parents=True)
    return staging


def publish(index_dir: Path, staging: Path) -> Path:
    """Make `staging` the live generation atomically; keep the one before it for readers still on it.

    A CURRENT pointer that cannot be read is replaced (that is how `qa index --rebuild` repairs
    it), and then no generation is removed: which one readers are on is not known.
    """
    try:
        previous = current_generation(index_dir)
        unknown = False
    except IndexDamagedError:
        previous, unknown = None, True
    _fsync_tree(staging)
    generation = index_dir / f"gen-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    os.rename(staging, generation)
    pause_point("publishing")
    pointer = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
    with open(pointer, "w", encoding="utf-8") as handle:
        handle.write(generation.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)
    _fsync_dir(index_dir)
    keep = {generation.name, previous.name if previous else ""}
    for old in index_dir.glob("gen-*"):
        if not unknown and old.name not in keep and _GENERATION_NAME.fullmatch(old.name):
            shutil.rmtree(old, ignore_errors=True)
    return generation


def pause_point(stage: str) -> None:
    """A test hook: with QA_TEST_PAUSE_AT=stage, a build announces it reached `stage` by writing
    QA_TEST_PAUSE_FILE, then waits to be killed, so tests can prove where a kill lands."""
    if os.environ.get("QA_TEST_PAUSE_AT") != stage:
        return
    Path(os.environ["QA_TEST_PAUSE_FILE"]).write_text(stage, encoding="utf-8")
    while True:
        time.sleep(1)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
