"""The `qa` command: parse arguments, call the library, format the result."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path, PurePath
from typing import Literal, Optional

import typer

from ..errors import BadInputError, CorpusConflictError, IndexDamagedError, IndexMissingError, IndexVersionError, ModelMismatchError, QAError
from ..models import MODES

LAYOUT_LINES = 10  # files whose layout a build summary or `qa info` describes without -v


app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: the rich renderer shows flags as taking a value (`--json <bool>`).
    rich_markup_mode=None,
)

Mode = Literal[MODES]  # the choices --help lists; qa.search.SearchRequest checks them too
BuildMode = Literal["hybrid", "dense"]
RerankOption = typer.Option(None, "--rerank", envvar="QA_RERANK", help="Rerank with a cross-encoder: st:NAME_OR_PATH (off by default)")
IndexDir = typer.Option(Path("embeddings"), "--index-dir", envvar="QA_INDEX_DIR", help="Index directory (relative paths: from the current directory)")
Model = typer.Option(None, "--model", envvar="QA_MODEL", help="e5-small (default), st:NAME_OR_PATH (a sentence-transformers model) or py:MODULE:CLASS (your own embedder)")
CorpusDir = typer.Option(Path("corpus"), "--corpus-dir", envvar="QA_CORPUS_DIR", help="Documents to index first when there is no index yet")
BackendOption = typer.Option(
    None, "--backend", envvar="QA_BACKEND",
    help="Where the index lives: local (default: --index-dir), milvus:PATH.db (Milvus Lite), milvus://HOST:PORT or an http(s):// Milvus URI (token: QA_MILVUS_TOKEN)",
)
CollectionOption = typer.Option(None, "-c", "--collection", envvar="QA_COLLECTION", help="A named collection (default: default); `qa collections` lists them")
ModeOption = typer.Option(None, "--mode", show_default=False, help="hybrid (default): meaning and words; dense: meaning only (the default in a dense-only collection); lexical: words only")


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"qa {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version, help="Print qa's version and exit")) -> None:
    """Ask a document collection a question; get the passages that answer it, with citations.

    Citations give file, paragraph, lines and character offsets; offsets (char_start,
    char_end, for passages and answers) count characters from the start of the file's text.
    """


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _stdout():
    """Where results go. Lines are not broken at the console's width: piped output (80 columns
    by default) keeps each citation on one line for grep and awk, and a terminal wraps by itself."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _fail(error: QAError, rebuild: str = "qa index CORPUS_DIR --rebuild") -> None:
    """One line on stderr, with what to do about it where the CLI knows; exit 2."""
    typer.echo(f"error: {error}{_advice(error, rebuild)}", err=True)
    raise typer.Exit(2)


def _advice(error: QAError, rebuild: str) -> str:
    # The library says what is wrong; the remedy is the interface's to offer.
    if isinstance(error, (IndexDamagedError, IndexVersionError)):
        return f": run `{rebuild}`"
    if isinstance(error, ModelMismatchError):
        return f": ask without --model, or run `{rebuild} --model {error.asked_for}`"
    if isinstance(error, IndexMissingError) and error.collection:
        return f": `qa collections` lists those there are; `qa index CORPUS_DIR -c {error.collection}` makes it"
    if isinstance(error, IndexMissingError):
        return ": run `qa index CORPUS_DIR` first, or point --index-dir (QA_INDEX_DIR) at an index"
    if isinstance(error, CorpusConflictError):
        return ": index it as a collection of its own (`qa index DIR --collection NAME`), or pass --replace to replace this one"
    return ""


def _rebuild(corpus_dir: Path | None, index_dir: Path, backend: str | None = None, collection: str | None = None) -> str:
    """The command that rebuilds the index a command used: advice that left out a --index-dir
    the user gave would rebuild the default index instead."""
    import shlex

    words = ["qa", "index", str(corpus_dir or "CORPUS_DIR")]
    if Path(index_dir) != Path("embeddings"):
        words += ["--index-dir", str(index_dir)]
    for option, value in (("--backend", backend), ("--collection", collection)):
        if value:
            words += [option, value]
    return shlex.join([*words, "--rebuild"])


@app.command()
def index(
    corpus_dir: Path = typer.Argument(Path("corpus"), envvar="QA_CORPUS_DIR", help="Documents to index"),
    index_dir: Path = IndexDir,
    model: Optional[str] = Model,
    rebuild: bool = typer.Option(False, "--rebuild", help="Re-embed everything instead of reusing unchanged passages"),
    follow_links: bool = typer.Option(False, "--follow-links", help="Also read symlinks that lead outside the corpus directory"),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="List every file left out, unsupported types too"),
    watch: bool = typer.Option(False, "--watch", help="Then keep the index in step with the folder until Ctrl-C"),
    backend: Optional[str] = BackendOption,
    collection: Optional[str] = CollectionOption,
    replace: bool = typer.Option(False, "--replace", help="Replace the collection even if it holds another corpus folder's index"),
    no_ocr: bool = typer.Option(False, "--no-ocr", help="Skip scanned pages and images instead of reading them by OCR (as QA_OCR=0)"),
    mode: Optional[BuildMode] = typer.Option(None, "--mode", help="Milvus only: dense builds a dense-only collection (smaller, faster to build); hybrid insists on both legs (Milvus 2.5+). Default: both where the server can"),
) -> None:
    """Build or update the index of a corpus directory (.txt, .md, .pdf, .docx, .doc, .rtf, .html, .epub; scans and images with the ocr extra)."""
    if no_ocr:
        os.environ["QA_OCR"] = "0"  # read by qa/ingest/formats/ocr.py, in this process and the --watch that follows
    if watch and (backend or collection):
        _fail(BadInputError("--watch keeps only the local default collection up to date; leave out --backend and --collection"))
    try:
        report = _build(corpus_dir, index_dir, model, rebuild, follow_links, backend=backend, collection=collection, replace=replace, mode=mode)
    except QAError as exc:
        _fail(exc, _rebuild(corpus_dir, index_dir, backend, collection))
    _print_build_report(report, verbose)
    if watch:
        _watch(corpus_dir, index_dir, model, follow_links, verbose)


def _print_build_report(report, verbose: bool) -> None:
    for line in _file_notes([asdict(s) for s in report.skipped], report.warnings, verbose):
        typer.echo(f"warning: {line}", err=True)
    for line in _layout_notes(report.layouts, verbose):
        typer.echo(f"layout: {line}")
    for line in report.notes:
        typer.echo(f"note: {line}", err=True)
    files = f"{_count(report.files, 'file')} ({_counts(report.formats)})"
    if report.up_to_date:
        typer.echo(f"Index at {report.index_dir} is up to date: {files}, {_count(report.passages, 'passage')} ({report.seconds:.2f} s).")
        return
    typer.echo(
        f"Indexed {files} into {_count(report.passages, 'passage')} ({_count(report.units, 'sentence')} embedded as "
        f"{report.embedded} new, {report.reused} reused, {report.removed} removed) in {report.seconds:.1f} s; "
        f"{len(report.skipped)} left out; index: {report.index_dir} ({report.index_type})."
    )


def _watch(corpus_dir: Path, index_dir: Path, model: Optional[str], follow_links: bool, verbose: bool) -> None:
    """One line per update; a failed update is reported and the watching goes on."""
    from ..watch import watch_corpus

    def ready() -> None:
        typer.echo(f"Watching {corpus_dir.resolve()} for changes (Ctrl-C to stop).", err=True)

    try:
        for update in watch_corpus(corpus_dir, index_dir, on_ready=ready, model=model, follow_links=follow_links):
            changes = "; ".join(
                f"{what} {', '.join(paths[:3])}{' …' if len(paths) > 3 else ''}"
                for what, paths in (("added", update.added), ("changed", update.changed), ("deleted", update.deleted))
                if paths
            ) or "caught up"
            stamp = time.strftime("%H:%M:%S")
            if update.error is not None:
                typer.echo(f"{stamp} update failed ({changes}): {update.error}; the previous index still answers", err=True)
                continue
            r, touched = update.report, set(update.added + update.changed)
            skipped = [asdict(s) for s in r.skipped if s.path in touched]
            for line in _file_notes(skipped, [(path, w) for path, w in r.warnings if path in touched], verbose):
                typer.echo(f"{stamp} warning: {line}", err=True)
            typer.echo(
                f"{stamp} updated ({changes}): {_count(r.files, 'file')}, {_count(r.passages, 'passage')}; "
                f"{_count(r.embedded, 'sentence')} embedded, {r.reused} reused; {r.seconds:.1f} s"
            )
    except KeyboardInterrupt:
        typer.echo("Stopped watching; the index is as of the last update.", err=True)
    except QAError as exc:  # the folder itself went away
        _fail(exc)


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _layout_notes(layouts: list[tuple[str, str]], verbose: bool) -> list[str]:
    """What the readers found in each file (columns, tables, a TOC left out), the first
    LAYOUT_LINES files unless -v."""
    lines = [f"{path}: {notes}" for path, notes in layouts]
    if verbose or len(lines) <= LAYOUT_LINES:
        return lines
    return lines[:LAYOUT_LINES] + [f"… and {len(lines) - LAYOUT_LINES} more files; -v lists them"]


def _file_notes(skipped: list[dict], warnings: list[tuple[str, str]], verbose: bool) -> list[str]:
    """One line per file that could not be read or was read in part; unsupported types counted
    by extension (each listed with -v), so nothing is left out in silence."""
    lines = [f"skipped {s['path']}: {s['reason']}" for s in skipped if s.get("kind") != "unsupported"]
    lines += [f"{path}: {warning}" for path, warning in warnings]
    unsupported = [s["path"] for s in skipped if s.get("kind") == "unsupported"]
    if unsupported:
        by_extension = Counter(PurePath(path).suffix.lower() or "(no extension)" for path in unsupported)
        lines.append(
            f"left out {len(unsupported)} {_plural(len(unsupported), 'file', 'files')} of types qa does not read "
            f"({_counts(by_extension)})" + ("" if verbose else "; -v lists them")
        )
        if verbose:
            lines += [f"unsupported: {path}" for path in unsupported]
    return lines


def _build(
    corpus_dir: Path,
    index_dir: Path,
    model: Optional[str],
    rebuild: bool,
    follow_links: bool = False,
    backend: Optional[str] = None,
    collection: Optional[str] = None,
    replace: bool = False,
    mode: Optional[str] = None,
):
    """build_index with progress on stderr: a bar on a terminal, one line per stage when piped."""
    from ..builder import build_index
    from ..storage.backend import open_writer

    console = _stderr()
    writer = open_writer(index_dir, backend, collection)
    before = writer.previous_manifest()

    def stage(text: str) -> None:
        console.print(f"qa index: {text}", style="dim", highlight=False, soft_wrap=True)

    with _embedding_bar(console) as progress:
        try:
            return build_index(
                corpus_dir, index_dir, model=model, rebuild=rebuild, progress=progress, follow_links=follow_links, stage=stage,
                backend=backend, collection=collection, replace=replace, mode=mode,
            )
        except KeyboardInterrupt:
            # Typer turns Ctrl-C into a silent exit 130; say what state the index is in.
            published = writer.previous_manifest() != before
            typer.echo("interrupted: " + ("the new index was already published" if published else "the previous index is unchanged"), err=True)
            raise typer.Exit(130) from None


@contextlib.contextmanager
def _embedding_bar(console) -> Iterator:
    """A progress(done, total) callback: a live bar on a terminal, nothing otherwise."""
    if not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("embed", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, metavar="QUESTION", help="The question; leave out to ask one per line, with the index loaded once"),
    top_k: int = typer.Option(5, "-k", "--top-k", envvar="QA_TOP_K", help="How many passages (1 to 100)"),  # checked by qa.search.SearchRequest
    json_output: bool = typer.Option(False, "--json", help="Print JSON: hits with text, score, citation; char_start/char_end count characters from the start of the file"),
    mode: Optional[Mode] = ModeOption,
    index_dir: Path = IndexDir,
    model: Optional[str] = Model,
    corpus_dir: Path = CorpusDir,
    profile: bool = typer.Option(False, "--profile", help="Print where the time went, to stderr"),
    rerank: Optional[str] = RerankOption,
    doc: list[str] = typer.Option([], "--doc", help="Answer only from documents whose path (or name) matches this glob; repeatable"),
    doc_type: list[str] = typer.Option([], "--type", help="Answer only from documents of this type: pdf, docx, doc, rtf, html, epub, txt, md, image; repeatable"),
    backend: Optional[str] = BackendOption,
    collection: Optional[str] = CollectionOption,
) -> None:
    """Answer a question from the index (building it first if there is none).

    Each hit cites file ¶paragraph, lines and character offsets into the file's text.
    """
    from .render_json import result_json
    from .render_terminal import print_hits

    console = _stdout()
    try:
        from ..retrieve.filters import Filter
        from ..search import SearchRequest

        # The options, checked before the index loads (or is built); each question goes into a copy
        # (asked one per line, a stand-in question holds its place until then).
        asked = SearchRequest(question if question is not None else "qa", top_k, mode, Filter(tuple(doc), tuple(doc_type)), collection)
        loading = time.perf_counter()
        engine = _open_index(index_dir, corpus_dir, model, backend, collection)
        reranker = _load_reranker(rerank) if rerank else None
        loaded = time.perf_counter() - loading
        questions = [question] if question is not None else _prompt_questions()
        for text in questions:
            searching = time.perf_counter()
            try:
                result = engine.ask(replace(asked, question=text, reranker=reranker))
            except QAError as exc:
                if question is None:  # interactive: say so and keep going
                    typer.echo(f"error: {exc}", err=True)
                    continue
                raise
            if json_output:
                typer.echo(result_json(text, result))
            else:
                print_hits(console, result.hits, result.answered)
            if profile:
                _print_profile(loaded, time.perf_counter() - searching, result.timings)
    except QAError as exc:
        _fail(exc, _rebuild(corpus_dir, index_dir, backend, collection))
    except KeyboardInterrupt:
        typer.echo("\ninterrupted", err=True)
        raise typer.Exit(130) from None


def _open_index(index_dir: Path, corpus_dir: Path, model: Optional[str], backend: Optional[str] = None, collection: Optional[str] = None):
    """The index in index_dir; with none there yet, build it from corpus_dir first (as `qa ask` does).

    Only the default collection is built on demand: a named one is made by `qa index --collection`.
    """
    from ..search import load_index
    from ..storage.backend import has_index

    if collection is None and not has_index(index_dir, backend):
        where = backend or index_dir.resolve()
        if not corpus_dir.is_dir():
            raise IndexMissingError(
                f"no index in {where}, and no documents to build one from in {corpus_dir.resolve()} "
                "(--corpus-dir, QA_CORPUS_DIR)"
            )
        typer.echo(f"No index in {where} yet: indexing {corpus_dir.resolve()} first.", err=True)
        report = _build(corpus_dir, index_dir, model, rebuild=False, backend=backend)
        typer.echo(f"Indexed {_count(report.files, 'file')} into {_count(report.passages, 'passage')} in {report.seconds:.1f} s.", err=True)
    return load_index(index_dir, model=model, backend=backend, collection=collection)


def _load_reranker(spec: str):
    from ..retrieve.rerank import load_reranker

    return load_reranker(spec)


PROMPT = "question> "


def _prompt_questions() -> Iterator[str]:
    """Questions typed one per line. On a terminal: line editing and history (readline), a
    hint how to leave, and a clean line for the shell's prompt after Ctrl-D."""
    interactive = sys.stdin.isatty()
    editing = interactive and sys.stdout.isatty() and _enable_line_editing()
    if interactive:
        typer.echo("Type a question and press Enter (↑ for earlier ones); Ctrl-D or `exit` to leave.", err=True)
    while True:
        try:
            if editing:
                line = input(PROMPT)  # readline draws the prompt and handles the keys
            else:
                if interactive:
                    typer.echo(PROMPT, nl=False, err=True)
                line = sys.stdin.readline()
                if not line:
                    raise EOFError
        except EOFError:
            if interactive:
                typer.echo(err=True)  # Ctrl-D leaves the cursor after the prompt
            return
        line = line.strip()
        if line in ("exit", "quit"):
            return
        if line:
            yield line


def _enable_line_editing() -> bool:
    """readline with a history file (QA_HISTORY_FILE, else ~/.local/state/qa/history)."""
    try:
        import atexit
        import readline
    except ImportError:  # e.g. a Python built without readline: plain input still works
        return False
    state_dir = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    history_path = Path(os.environ.get("QA_HISTORY_FILE") or state_dir / "qa" / "history")
    with contextlib.suppress(OSError):
        readline.read_history_file(history_path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            history_path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history_path)

    atexit.register(save)
    return True


def _print_profile(loaded: float, searched: float, timings: dict[str, float]) -> None:
    parts = [f"load index {loaded:.3f}s"]
    parts += [f"{name} {seconds:.3f}s" for name, seconds in timings.items()]
    parts.append(f"search {searched:.3f}s")
    age = _process_age()
    if age is not None:
        parts.append(f"since process start {age:.3f}s")
    typer.echo("profile: " + ", ".join(parts), err=True)


def _process_age() -> Optional[float]:
    """Seconds since this process started (Linux), so --profile shows start-up and import cost too."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@app.command()
def info(
    index_dir: Path = IndexDir,
    json_output: bool = typer.Option(False, "--json", help="Print JSON"),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="List every file left out, unsupported types too"),
    backend: Optional[str] = BackendOption,
    collection: Optional[str] = CollectionOption,
) -> None:
    """Show what index is there, built from what, with which model."""
    from ..search import load_index

    try:
        engine = load_index(index_dir, backend=backend, collection=collection)
    except QAError as exc:
        _fail(exc, _rebuild(None, index_dir, backend, collection))
    manifest = engine.manifest
    if json_output:
        typer.echo(json.dumps(dict(manifest.to_dict(), generation=engine.generation), ensure_ascii=False, indent=2))
        return
    typer.echo(f"index:    {engine.generation_dir or engine.store.location}")
    typer.echo(f"model:    {manifest.model} (dim {manifest.dim}, {manifest.index_type})")
    formats = _counts(Counter(f.get("format", "text") for f in manifest.files))
    typer.echo(
        f"corpus:   {manifest.corpus_dir} ({_count(len(manifest.files), 'file')}: {formats}; "
        f"{_count(manifest.passage_count, 'passage')}, {_count(manifest.unit_count, 'sentence')})"
    )
    typer.echo(f"built:    {manifest.built_at}")
    server = f" (Milvus {manifest.milvus_version})" if manifest.milvus_version else ""
    typer.echo(f"modes:    {', '.join(engine.store.modes)}{server}")
    warnings = [(f["path"], w) for f in manifest.files for w in f.get("warnings", ())]
    for line in _file_notes(manifest.skipped, warnings, verbose):
        typer.echo(f"note:     {line}")
    layouts = [(f["path"], "; ".join(f["layout"])) for f in manifest.files if f.get("layout")]
    for line in _layout_notes(layouts, verbose):
        typer.echo(f"layout:   {line}")


@app.command()
def collections(
    index_dir: Path = IndexDir,
    backend: Optional[str] = BackendOption,
    json_output: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """List the collections: name, corpus folder, model, files, passages, when built."""
    from ..storage.backend import list_collections

    try:
        found = list_collections(index_dir, backend)
    except QAError as exc:
        _fail(exc, _rebuild(None, index_dir, backend))
    rows = [
        {"name": m["name"], "problem": m["problem"]} if "problem" in m else
        {"name": m["name"], "corpus_dir": m.get("corpus_dir"), "model": m.get("model"), "files": m["file_count"],
         "passages": m.get("passage_count"), "built_at": m.get("built_at")}
        for m in found
    ]
    if json_output:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(f"No collections in {backend or index_dir.resolve()} yet: `qa index CORPUS_DIR [--collection NAME]` makes one.", err=True)
        return
    typer.echo("name\tcorpus\tmodel\tfiles\tpassages\tbuilt")
    for row in rows:
        if "problem" in row:
            typer.echo(f"{row['name']}\t({row['problem']}: `qa info -c {row['name']}` says more)")
            continue
        typer.echo("\t".join(str(row[key]) for key in ("name", "corpus_dir", "model", "files", "passages", "built_at")))


@app.command()
def show(
    citation: str = typer.Argument(..., help="A passage id (qa ask prints it), FILE ¶N, FILE p.N, or a whole citation line"),
    around: int = typer.Option(1, "--around", min=0, max=50, help="How many passages to show before and after"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON: the cited passages and those around them"),
    index_dir: Path = IndexDir,
    backend: Optional[str] = BackendOption,
    collection: Optional[str] = CollectionOption,
) -> None:
    """Show a cited passage in its context, the passage marked."""
    from ..citations import find_cited, passage_context
    from ..search import load_index
    from . import render_terminal

    try:
        engine = load_index(index_dir, backend=backend, collection=collection)
        context = passage_context(engine, find_cited(engine, citation), around)
    except QAError as exc:
        _fail(exc, _rebuild(None, index_dir, backend, collection))
    if json_output:
        typer.echo(json.dumps(context.to_dict(), ensure_ascii=False, indent=2))
    else:
        render_terminal.print_context(_stdout(), context)


@app.command()
def serve(
    index_dir: Path = IndexDir,
    host: str = typer.Option("127.0.0.1", "--host", envvar="QA_HOST", help="Address to listen on; anything but loopback needs a token"),
    port: int = typer.Option(8000, "--port", envvar="QA_PORT", min=0, max=65535, help="Port (0: any free one)"),
    token: Optional[str] = typer.Option(None, "--token", envvar="QA_TOKEN", help="Require `Authorization: Bearer TOKEN` on every /api/ call"),
    model: Optional[str] = Model,
    backend: Optional[str] = BackendOption,
    collection: Optional[str] = CollectionOption,
    rerank: Optional[str] = RerankOption,
) -> None:
    """Serve the HTTP API and the web page (a rebuild by `qa index` is picked up without a restart)."""
    try:
        from .server.run import serve as run_server
    except ImportError as exc:
        _fail(_missing_extra("serve", exc))
    try:
        reranker = _load_reranker(rerank) if rerank else None
        run_server(
            index_dir, host=host, port=port, token=token, model=model, announce=lambda line: typer.echo(line, err=True), backend=backend, collection=collection, reranker=reranker,
        )
    except QAError as exc:
        _fail(exc, _rebuild(None, index_dir, backend, collection))
    except KeyboardInterrupt:  # Ctrl-C is how a server is stopped: not an error
        typer.echo("qa serve: stopped", err=True)


@app.command()
def mcp(
    index_dir: Path = IndexDir, model: Optional[str] = Model, backend: Optional[str] = BackendOption, collection: Optional[str] = CollectionOption, rerank: Optional[str] = RerankOption,
) -> None:
    """Run the MCP server on stdio (tools: search, get_passage, list_collections) for AI agents."""
    try:
        from .mcp_server import run_stdio
    except ImportError as exc:
        _fail(_missing_extra("mcp", exc))
    try:
        run_stdio(index_dir, model=model, backend=backend, collection=collection, reranker=_load_reranker(rerank) if rerank else None)
    except QAError as exc:
        _fail(exc, _rebuild(None, index_dir, backend, collection))


def _missing_extra(command: str, exc: ImportError) -> BadInputError:
    package = (exc.name or "?").split(".")[0]
    return BadInputError(f"`qa {command}` needs the serve extra ({package} is missing): pip install 'qa[serve]'")


@app.command("eval")
def eval_command(
    golden_file: Path = typer.Argument(..., help="Golden queries (YAML or JSON Lines)"),
    index_dir: Path = IndexDir,
    corpus_dir: Path = CorpusDir,
    mode: Optional[Mode] = ModeOption,
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    min_recall_at: list[str] = typer.Option([], "--min-recall-at", help="Threshold like 5=0.9 (Recall@5 at least 0.9); repeatable"),
    min_mrr: Optional[float] = typer.Option(None, "--min-mrr", help="Fail if MRR@10 is below this"),
    record: Optional[Path] = typer.Option(None, "--record", help="Write each query's top hits to this snapshot file"),
    against: Optional[Path] = typer.Option(None, "--against", help="Show what changed since this snapshot"),
    backend: Optional[str] = BackendOption,
    collection: Optional[str] = CollectionOption,
) -> None:
    """Run fixed questions against the index (building it first if there is none); fail on missed thresholds or failed must_pass queries."""
    from .. import evaluation as ev
    from . import render_terminal

    try:
        thresholds = {f"recall@{k}": v for k, v in (_threshold(t) for t in min_recall_at)}
        if min_mrr is not None:
            thresholds["mrr@10"] = _share("--min-mrr", min_mrr)
        queries = ev.load_golden(golden_file)
        if against:
            ev.load_snapshot(against)
        if record:
            ev.check_snapshot_path(record)
        engine = _open_index(index_dir, corpus_dir, None, backend, collection)
        report = _evaluate_with_progress(engine, queries, mode or engine.default_mode)
        changes = ev.diff_snapshot(report, against) if against else None
        if record:
            ev.record_snapshot(report, record)
    except QAError as exc:
        _fail(exc, _rebuild(corpus_dir, index_dir, backend, collection))
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    missed = [f"{name} {report.metrics.get(name, 0):.3f} < {value}" for name, value in thresholds.items() if report.metrics.get(name, 0) < value]
    if json_output:
        data = report.to_dict()
        data.update(thresholds_missed=missed, changes=changes)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        render_terminal.print_eval(_stdout(), report, changes)
    if record:
        typer.echo(f"Recorded {len(report.results)} {_plural(len(report.results), 'query', 'queries')} to {record}.", err=True)
    for line in missed:
        typer.echo(f"threshold missed: {line}", err=True)
    for result in report.failed_must_pass:
        typer.echo(f"must_pass query failed: {result.id} ({_failure(result)})", err=True)
    if missed or report.failed_must_pass:
        raise typer.Exit(1)


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _count(n: int, noun: str) -> str:
    """`1 file`, `7 files`: the nouns these messages count take an s."""
    return f"{n} {_plural(n, noun, noun + 's')}"


def _threshold(text: str) -> tuple[int, float]:
    from ..evaluation import RECALL_KS

    try:
        k, value = text.split("=", 1)
        k, value = int(k), float(value)
    except ValueError:
        raise BadInputError(f"--min-recall-at takes K=VALUE, like 5=0.9, not {text!r}") from None
    if k not in RECALL_KS:
        raise BadInputError(f"--min-recall-at: Recall is measured at {', '.join(map(str, RECALL_KS))}, not at {k}")
    return k, _share("--min-recall-at", value)


def _failure(result) -> str:
    """Why a query failed, in a word or two."""
    if result.unanswerable:
        return "answered anyway"  # it should have been declared unanswerable
    return "not found" if result.rank is None else f"rank {result.rank}"


def _share(option: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:  # 1.5 would fail every run; 90 likely means 0.9
        raise BadInputError(f"{option} takes a value from 0 to 1, not {value:g}")
    return value


def _evaluate_with_progress(engine, queries, mode):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..evaluation import evaluate

    console = _stderr()
    if not console.is_terminal:
        return evaluate(engine, queries, mode=mode)
    with Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as bar:
        task = bar.add_task("eval", total=len(queries))
        return evaluate(engine, queries, mode=mode, progress=lambda done, total: bar.update(task, completed=done))


def main() -> None:
    try:
        app(standalone_mode=True)
    except KeyboardInterrupt:
        # Ctrl-C before a command started (commands say what they were doing themselves).
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # disk full, a read-only index folder …: one line, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where}", err=True)
        sys.exit(2)
