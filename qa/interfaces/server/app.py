"""The HTTP API and the web page of `qa serve`: parse the request, call the library, format JSON.

Routes: POST /api/ask, GET /api/passages/{id}, GET /api/documents/{path}, GET /api/info,
GET /healthz, the page at /, OpenAPI docs at /docs. Errors are JSON `{"error": "..."}` with
400 (bad input), 401 (token), 404 (unknown passage or document), 413 (body too large),
503 (no usable index, or too busy), 504 (search timed out).
"""

from __future__ import annotations

import asyncio
import hmac
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from ... import __version__
from ...citations import MAX_AROUND, passage_context
from ...errors import BadInputError, NotFoundError, QAError
from ...live import LiveCollections, LiveIndex
from ...models import MODES
from ...retrieve.filters import Filter
from ...retrieve.rerank import Reranker
from ...search import MAX_QUESTION_CHARS, MAX_TOP_K, SearchRequest
from ...storage.records import check_collection_name
from ..render_json import result_json

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 16 * 1024  # a question and a few options; anything bigger is not a question
SEARCH_SECONDS = 10.0  # a search (including waiting for a free slot) that takes longer gets 504
QUEUE_PER_SLOT = 4  # callers that may wait per search slot; more are told to come back (503)
LATE_SHARE = 0.25  # a search whose slot comes with less than this share of its time left is not run
MAX_FILTERS = 20  # globs or types a request may give
MAX_FILTER_CHARS = 200


class AskRequest(BaseModel):
    """What /api/ask takes: the JSON of a qa.search.SearchRequest, which checks the values (so
    HTTP, MCP, the CLI and Python refuse the same things in the same words). Here only the
    JSON's shape is checked. Unknown fields are refused, so a misspelt option is not silently ignored."""

    # Strict: `"top_k": true` or `"3"` is a mistake to report, not a number to guess at.
    model_config = ConfigDict(extra="forbid", strict=True)
    question: str = Field(description=f"up to {MAX_QUESTION_CHARS} characters")
    top_k: int = Field(5, description=f"1 to {MAX_TOP_K}")
    mode: Literal[MODES] | None = Field(None, description="by default hybrid, or dense in a dense-only collection")
    # Answer only from these documents, as `qa ask --doc GLOB --type FORMAT` (qa.retrieve.filters).
    doc: list[Annotated[str, Field(min_length=1, max_length=MAX_FILTER_CHARS)]] = Field(default_factory=list, max_length=MAX_FILTERS)
    type: list[Annotated[str, Field(min_length=1, max_length=MAX_FILTER_CHARS)]] = Field(default_factory=list, max_length=MAX_FILTERS)
    collection: str | None = Field(None, max_length=64)  # by default the one `qa serve -c` named (GET /api/collections lists them)


class SearchTimeout(Exception):
    pass


class SearchOverloaded(Exception):
    """More callers wait for a search slot than could be served in time: refused at once."""


class Searches:
    """Searches run in worker threads, at most `slots` at a time. A caller waits at most
    `seconds` in all (for a slot, then for its search) and then gets SearchTimeout.

    A Python thread cannot be stopped, so a search that overruns keeps its slot until it
    returns; its caller has had its 504 by then, and callers queued behind it time out
    instead of piling up without bound.

    Under overload, work nobody will read is not started: past QUEUE_PER_SLOT callers waiting
    per slot, a caller gets SearchOverloaded at once (503, try again), and a caller whose slot
    comes too late to finish in time gets SearchTimeout without its search being run.
    """

    def __init__(self, slots: int, seconds: float):
        self.seconds = seconds
        self._slots = asyncio.Semaphore(slots)
        self._executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="qa-search")
        self._waiting = 0  # callers waiting for a slot (only the event loop's thread counts them)
        self._max_waiting = slots * QUEUE_PER_SLOT

    async def run(self, function):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        if self._waiting >= self._max_waiting:
            raise SearchOverloaded
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.seconds)
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            raise SearchTimeout from None
        finally:
            self._waiting -= 1
        if deadline - loop.time() < LATE_SHARE * self.seconds:  # its answer would come too late to be read
            self._slots.release()
            raise SearchTimeout
        future = loop.run_in_executor(self._executor, function)
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(deadline - loop.time(), 0))
        except asyncio.TimeoutError:
            raise SearchTimeout from None

    def _finished(self, future) -> None:
        # The slot frees when the thread is really done, not when its caller stopped waiting.
        self._slots.release()
        if not future.cancelled():
            future.exception()  # retrieved, so an abandoned search's error is not logged as lost

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def create_app(
    live: LiveIndex, token: str | None = None, search_slots: int | None = None, search_seconds: float = SEARCH_SECONDS,
    allowed_hosts: list[str] | None = None, reranker: Reranker | None = None,
) -> FastAPI:
    """The app over `live` (and the other collections beside it, by name); with a `token`, every
    /api/ call must send `Authorization: Bearer TOKEN`. A `reranker` reorders every question's hits.

    `allowed_hosts`, if given, are the only Host headers answered (a server on loopback takes
    only loopback names, so a web page elsewhere cannot reach it by DNS rebinding).
    """
    searches = Searches(search_slots or os.cpu_count() or 2, search_seconds)
    collections = LiveCollections(live)
    app = FastAPI(title="qa", version=__version__, summary="Ask a document collection a question; get cited passages.", docs_url=None, redoc_url=None)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(BearerToken, token=token)
    if allowed_hosts:
        app.add_middleware(AllowedHosts, names=allowed_hosts)
    app.router.add_event_handler("shutdown", searches.close)

    @app.exception_handler(QAError)
    async def qa_error(_request: Request, exc: QAError) -> JSONResponse:
        remedy = ": GET /api/collections lists them" if isinstance(exc, NotFoundError) and exc.collection else ""
        return error(_status(exc), f"{exc}{remedy}")

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return error(400, f"the body is not valid JSON ({first.get('ctx', {}).get('error', 'cannot parse it')})")
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        return error(400, f"{where}: {first.get('msg')}" if where else str(first.get("msg")))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.post("/api/ask", summary="Ask a question: the same JSON as `qa ask --json`")
    async def ask(body: AskRequest) -> Response:
        # A bad value (an unknown type or mode, top_k out of range): BadInputError, 400.
        request = SearchRequest(body.question, body.top_k, body.mode, Filter(tuple(body.doc), tuple(body.type)), body.collection, reranker)

        def search():
            return collections.ask(request)

        try:
            result = await searches.run(search)
        except SearchTimeout:
            return error(504, f"the search took longer than {searches.seconds:g} s")
        except SearchOverloaded:
            busy = error(503, "the server is busy with other questions: try again in a moment")
            busy.headers["Retry-After"] = "1"
            return busy
        return Response(result_json(request.question, result), media_type="application/json")

    @app.get("/api/passages/{passage_id}", summary="A passage with the passages around it: what `qa show ID --json` prints")
    def passage(passage_id: str, around: int = Query(1, ge=0, le=MAX_AROUND), collection: str | None = None) -> dict:
        index = collections.current(collection)
        return passage_context(index, [index.passage(passage_id)], around=around).to_dict()

    @app.get("/api/documents/{doc_path:path}", summary="An indexed document's text (as the index holds it) and where its passages begin and end")
    def document(doc_path: str, collection: str | None = None) -> dict:
        index = collections.current(collection)
        passages = index.document_passages(doc_path)  # 404 for anything the index does not list
        document = index.document(doc_path)  # the text is the index's copy: no file is read
        bounds = []
        for p in passages:
            data = p.to_dict()
            del data["text"]
            data["passage_id"] = data.pop("id")
            bounds.append(data)
        return {"doc_path": doc_path, "title": document.title or passages[0].title, "format": document.format, "text": document.text, "passages": bounds}

    @app.get("/api/collections", summary="The collections beside the one being served: what `qa collections` lists")
    def collections_list() -> dict:
        return collections.listing()

    @app.get("/api/info", summary="The index being served")
    def info(collection: str | None = None) -> dict:
        served = collections.live(collection)
        index = served.current()
        manifest = index.manifest
        return {
            "collection": check_collection_name(served.collection),
            "generation": index.generation,
            "model": manifest.model,
            "dim": manifest.dim,
            "index_type": manifest.index_type,
            "files": len(manifest.files),
            "passages": manifest.passage_count,
            "sentences": manifest.unit_count,
            "built_at": manifest.built_at,
            "modes": list(index.store.modes),
            "max_top_k": MAX_TOP_K,
            "max_question_chars": MAX_QUESTION_CHARS,
            "reload_error": served.status().reload_error,
            "version": __version__,
        }

    @app.get("/healthz", summary="200 while an index is being served, 503 otherwise")
    def healthz() -> JSONResponse:
        try:
            index = live.current()
        except QAError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "generation": index.generation, "reload_error": live.status().reload_error})

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _add_offline_docs(app)
    return app


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)


def _status(exc: QAError) -> int:
    if isinstance(exc, BadInputError):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    return 503  # missing, damaged, old format, another model: no index can serve until one is built


def _add_offline_docs(app: FastAPI) -> None:
    """/docs with Swagger UI 5 (it reads OpenAPI 3.1) from the swagger-ui-bundle-v2 package: no CDN."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="qa API", swagger_js_url="/docs-static/swagger-ui-bundle.js", swagger_css_url="/docs-static/swagger-ui.css", swagger_favicon_url="/docs-static/favicon-32x32.png"
        )


class BearerToken:
    """With a token set, every /api/ request must carry it as `Authorization: Bearer TOKEN`."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.expected = token.encode() if token else None

    async def __call__(self, scope, receive, send):
        if self.expected and scope["type"] == "http" and scope["path"].startswith("/api/"):
            scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
            # The scheme's name is case-insensitive (RFC 7235); the token is compared in constant time.
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(b" "), self.expected):
                await error(401, "this server needs a token: send `Authorization: Bearer TOKEN`")(scope, receive, send)
                return
        await self.app(scope, receive, send)


class AllowedHosts:
    """Only requests whose Host header names one of `names` (any port) are answered; others get
    a JSON 400. A server on loopback so refuses a page elsewhere that reaches it by DNS rebinding."""

    def __init__(self, app, names: list[str]):
        self.app = app
        self.names = {name.lower() for name in names}

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").lower()
            if _host_name(host) not in self.names:
                await error(400, f"this server answers only to {', '.join(sorted(self.names))}, not to the host {host!r}")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _host_name(host: str) -> str:
    """A Host header without its port: `[::1]:8000` -> `::1`, `localhost:8000` -> `localhost`."""
    if host.startswith("[") and "]" in host:
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class BodyLimit:
    """Requests with a body over `max_bytes` get 413 before the app reads them."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks, size = [], 0
        while True:  # also catches a chunked body that never said how long it is
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body"):
                break
        pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay():
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send) -> None:
        await error(413, f"the request body is larger than {self.max_bytes} bytes")(scope, receive, send)
