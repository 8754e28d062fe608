"""Start `qa serve`: refuse unsafe settings, open the index, bind the port, run uvicorn."""

from __future__ import annotations

import errno
import ipaddress
import json
import socket
from pathlib import Path

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ...errors import BadInputError
from ...live import LiveIndex
from ...retrieve.rerank import Reranker
from .app import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1", "[::1]"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Only this machine may reach a server without a token; and a token must be one a client can send."""
    if token and (token != token.strip() or any(ch.isspace() or not ch.isprintable() for ch in token)):
        raise BadInputError("the token has spaces or unprintable characters: no client could send it in an Authorization header")
    if not is_loopback(host) and not token:
        raise BadInputError(f"refusing to listen on {host} without a token: set --token or QA_TOKEN (or listen on 127.0.0.1)")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a port in use is one clear line, not a log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BadInputError(f"port {port} on {host} is in use: stop what holds it or pick another with --port") from None
        raise BadInputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


def serve(
    index_dir: Path | None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None, model: str | None = None,
    announce=print, backend: str | None = None, collection: str | None = None, reranker: Reranker | None = None,
) -> None:
    """Serve until interrupted. QAError before anything listens: unsafe host, no index, port in use."""
    check_exposure(host, token)
    live = LiveIndex(index_dir, model=model, backend=backend, collection=collection)
    passages, location = _serving(live)  # no index, damaged, wrong model: fail now, not at the first question
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    announce(f"qa serve: {passages} passages from {location} at http://{shown}:{sock.getsockname()[1]}/ (API docs at /docs; Ctrl-C stops)")
    # On loopback, only loopback Host headers: a page elsewhere cannot reach in by DNS rebinding.
    allowed_hosts = LOOPBACK_NAMES + [host] if is_loopback(host) else None
    uvicorn.Server(uvicorn_config(create_app(live, token=token, allowed_hosts=allowed_hosts, reranker=reranker))).run(sockets=[sock])


def uvicorn_config(app) -> uvicorn.Config:
    return uvicorn.Config(app, http=JsonErrorH11Protocol, log_level="warning", timeout_keep_alive=5, timeout_graceful_shutdown=5)


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn answers malformed HTTP (a bad Content-Length, a broken request line) itself, in
    plain text; the API's clients get its JSON error instead."""

    def send_400_response(self, msg: str) -> None:
        body = json.dumps({"error": f"bad HTTP request: {msg}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()


def _serving(live: LiveIndex) -> tuple[int, str]:
    """What the server will serve first. Only figures are kept: holding the index itself would
    keep its generation mapped after a rebuild replaces it, for as long as the server runs."""
    index = live.current()
    return index.manifest.passage_count, str(index.store.location)
