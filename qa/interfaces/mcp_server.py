"""`qa mcp`: the index as an MCP server on stdio, for AI agents (tools `search`, `get_passage`).

Thin over the library, like the CLI: the hits are the JSON of `qa ask --json`, a passage
comes with its neighbours. A rebuild by `qa index` is picked up without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Strict

from ..citations import MAX_AROUND, passage_context
from ..errors import NotFoundError, QAError
from ..live import LiveCollections, LiveIndex
from ..models import MODES
from ..retrieve.filters import Filter
from ..retrieve.rerank import Reranker
from ..search import SearchRequest
from .render_json import result_dict

# As strict as the HTTP API: `"top_k": "3"` is a mistake to report, not a number to guess at.
StrictInt = Annotated[int, Strict()]

INSTRUCTIONS = (
    "Search a document collection. `search` returns the passages that answer a question, best first, "
    "each with its citation (doc_path, paragraph, line_start-line_end, char offsets into the file) and "
    "`answer`: the sentence that answers. `get_passage` returns a passage by its passage_id with the "
    "passages around it. `list_collections` names the collections there are; both take `collection` "
    "(by default the one the server was started with). Cite passages as doc_path ¶paragraph Lline_start-line_end."
)


def create_server(live: LiveIndex, reranker: Reranker | None = None) -> MCPServer:
    server = MCPServer("qa", instructions=INSTRUCTIONS)
    collections = LiveCollections(live)

    @server.tool()
    def search(
        question: str,
        top_k: StrictInt = 5,
        mode: Literal[MODES] | None = None,
        doc: list[str] | None = None,
        type: list[str] | None = None,  # noqa: A002 - the name `qa ask --type` and the HTTP API use
        collection: str | None = None,
    ) -> dict[str, Any]:
        """The passages that answer `question` (Chinese or English), best first, with citations and answer sentences.
        `doc`: answer only from documents whose path or name matches one of these globs; `type`: only from
        documents of these types (pdf, docx, doc, rtf, html, epub, txt, md, image); `collection`: search that collection;
        `mode`: hybrid (default), dense or lexical; `top_k`: 1 to 100; the question: up to 2,000 characters."""
        try:  # the values are checked by SearchRequest, as for HTTP and the CLI
            request = SearchRequest(question, top_k, mode, Filter(tuple(doc or ()), tuple(type or ())), collection, reranker)
            return result_dict(question, collections.ask(request))
        except QAError as exc:
            raise _tool_error(exc) from None

    @server.tool()
    def get_passage(passage_id: str, around: int = 1, collection: str | None = None) -> dict[str, Any]:
        """The passage with this passage_id (from `search`) as `cited`, with up to `around` passages before and after it in its document."""
        if not 0 <= around <= MAX_AROUND:
            raise ToolError(f"around must be between 0 and {MAX_AROUND}")
        try:
            index = collections.current(collection)
            return passage_context(index, [index.passage(passage_id)], around=around).to_dict()
        except QAError as exc:
            raise _tool_error(exc) from None

    @server.tool()
    def list_collections() -> dict[str, Any]:
        """The collections there are (name, corpus folder, model, files, passages, when built, search modes) and the default one."""
        try:
            return collections.listing()
        except QAError as exc:
            raise _tool_error(exc) from None

    return server


def _tool_error(exc: QAError) -> ToolError:
    """The library's one line, with the remedy an agent has: its other tool."""
    remedy = ": the list_collections tool lists them" if isinstance(exc, NotFoundError) and exc.collection else ""
    return ToolError(f"{exc}{remedy}")


def run_stdio(index_dir: Path | None, model: str | None = None, backend: str | None = None, collection: str | None = None, reranker: Reranker | None = None) -> None:
    """Serve on stdin/stdout until the client closes them. QAError at once when there is no usable index."""
    live = LiveIndex(index_dir, model=model, backend=backend, collection=collection)
    live.current()  # fail before the handshake, with a message a person can read in the client's log
    create_server(live, reranker).run("stdio")
