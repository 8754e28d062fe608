"""Keeping an index in step with its folder: every change to the documents triggers an
incremental build (unchanged sentences reuse their vectors), debounced so a burst of
saves is one update. A failed update leaves the previous index answering."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .builder import BuildReport, build_index
from .errors import BadInputError, QAError

DEBOUNCE_MS = 700  # wait this long after the last change before updating
READY_MS = 300


@dataclass(frozen=True)
class Update:
    """One round of changes and what the build made of them (`report`), or why it failed (`error`)."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    deleted: tuple[str, ...]
    report: BuildReport | None = None
    error: str | None = None


def watch_corpus(
    corpus_dir: Path | str,
    index_dir: Path | str,
    build: Callable[[], BuildReport] | None = None,
    stop_event=None,
    on_ready: Callable[[], None] | None = None,
    **build_options,
) -> Iterator[Update]:
    """Yield an Update after each debounced batch of changes under corpus_dir, until stopped.

    `build` (default: build_index with `build_options`) runs once per batch. Once the folder
    is watched, a catch-up build picks up what changed before that, then `on_ready()` is called.
    """
    import watchfiles

    corpus_dir, index_dir = Path(corpus_dir).resolve(), Path(index_dir).resolve()
    build = build or (lambda: build_index(corpus_dir, index_dir, **build_options))

    default_filter = watchfiles.DefaultFilter()

    def relevant(change, path: str) -> bool:
        # Hidden files are never read, and the index may live inside the corpus folder.
        inside_index = path == str(index_dir) or path.startswith(str(index_dir) + os.sep)
        return default_filter(change, path) and not inside_index and not Path(path).name.startswith(".")

    ready = False
    # yield_on_timeout: an empty batch soon after the start says the watcher is running.
    batches = watchfiles.watch(
        corpus_dir, watch_filter=relevant, debounce=DEBOUNCE_MS, stop_event=stop_event, yield_on_timeout=True, rust_timeout=READY_MS
    )
    for changes in batches:
        if not changes and ready:
            continue
        if not changes:
            ready = True
            update = _run(build, {})
            if update.error is not None or not update.report.up_to_date:
                yield update
            if on_ready is not None:
                on_ready()
            continue
        kinds: dict[str, set[str]] = {"added": set(), "modified": set(), "deleted": set()}
        for change, path in changes:
            kinds[change.name].add(_relative(path, corpus_dir))
        update = _run(build, kinds)
        # A change the index does not see (a photo, a log file written into the folder) is not
        # news; reporting it would make a log kept in the folder report itself forever.
        if update.error is not None or not update.report.up_to_date or _names_unreadable(update):
            yield update
        if update.error is not None and not corpus_dir.is_dir():
            # Its events stop with it: a folder made again under the name would go unwatched.
            raise BadInputError(f"{corpus_dir} is gone; stopped watching (the index is as of the last update)")


def _names_unreadable(update: Update) -> bool:
    """Whether the update skipped a changed file for a reason worth telling (not its type)."""
    touched = set(update.added + update.changed)
    return any(s.path in touched and s.kind != "unsupported" for s in update.report.skipped)


def _run(build: Callable[[], BuildReport], kinds: dict[str, set[str]]) -> Update:
    added, modified, deleted = (kinds.get(kind, set()) for kind in ("added", "modified", "deleted"))
    try:
        report, error = build(), None
    except (QAError, OSError) as exc:
        report, error = None, str(exc)
    return Update(
        added=tuple(sorted(added - deleted)),
        changed=tuple(sorted(modified - added - deleted)),
        deleted=tuple(sorted(deleted)),
        report=report,
        error=error,
    )


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path
