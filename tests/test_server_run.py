"""Starting `qa serve`: safe defaults and one-line startup errors."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import TEST_CORPUS_DIR, default_sigint, running_server
from qa import build_index
from qa.interfaces.cli import app
from qa.embedding.embedders import load_embedder
from qa.errors import BadInputError
from qa.live import LiveIndex
from qa.interfaces.server.app import create_app
from qa.interfaces.server.run import bind, check_exposure, is_loopback

TESTS_DIR = Path(__file__).parent


@pytest.fixture
def index_dir(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=load_embedder("py:fakes:FakeEmbedder"))
    return index_dir


def serve(*args, env=None):
    result = CliRunner().invoke(app, ["serve", *[str(a) for a in args]], env=env)
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("example.org", False)])
def test_only_loopback_is_loopback(host, loopback):
    assert is_loopback(host) == loopback


def test_any_other_host_needs_a_token():
    check_exposure("127.0.0.1", None)
    check_exposure("0.0.0.0", "t")
    with pytest.raises(BadInputError, match="without a token"):
        check_exposure("0.0.0.0", None)


@pytest.mark.parametrize("token", ["abc ", " abc", "a b", "abc\n"])
def test_a_token_no_client_could_send_is_refused_at_start(token):
    with pytest.raises(BadInputError, match="spaces or unprintable"):
        check_exposure("127.0.0.1", token)


def test_serve_refuses_a_public_host_without_a_token(index_dir):
    result = serve("--index-dir", index_dir, "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert result.output.strip() == "error: refusing to listen on 0.0.0.0 without a token: set --token or QA_TOKEN (or listen on 127.0.0.1)"


def test_qa_token_counts_as_a_token(tmp_path):
    result = serve("--index-dir", tmp_path / "none", "--host", "0.0.0.0", env={"QA_TOKEN": "t"})
    assert result.exit_code == 2 and "refusing" not in result.output and "no index in" in result.output


def test_no_index_is_one_line_and_exit_2(tmp_path):
    result = serve("--index-dir", tmp_path / "none")
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: no index in ") and "qa index" in line


def test_a_port_in_use_is_one_line_and_exit_2(index_dir):
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        result = serve("--index-dir", index_dir, "--port", port)
    finally:
        taken.close()
    assert result.exit_code == 2
    assert result.output.strip() == f"error: port {port} on 127.0.0.1 is in use: stop what holds it or pick another with --port"


def test_serve_runs_on_loopback_with_a_token_until_interrupted(index_dir):
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_TOKEN="s3cret")
    process = subprocess.Popen(
        [sys.executable, "-m", "qa", "serve", "--index-dir", str(index_dir), "--port", "0"], env=env, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    )
    try:
        announced = process.stderr.readline()
        assert announced.startswith("qa serve: ") and "http://127.0.0.1:" in announced
        url = announced.split(" at ")[1].split()[0].rstrip("/")
        assert httpx.get(f"{url}/api/info").status_code == 401
        info = httpx.get(f"{url}/api/info", headers={"Authorization": "Bearer s3cret"})
        assert info.status_code == 200 and info.json()["model"] == "py:fakes:FakeEmbedder"
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
        host = url.split("//")[1].split(":")[0]
        assert host == "127.0.0.1"
        # DNS rebinding: a name that resolves here, used by a page elsewhere, is not answered
        rebound = httpx.get(f"{url}/api/info", headers={"Authorization": "Bearer s3cret", "Host": "attacker.example"})
        assert rebound.status_code == 400
        assert httpx.get(url.replace("127.0.0.1", "localhost") + "/healthz").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
        assert process.stderr.read().strip() == "qa serve: stopped"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1)


def test_serve_answers_from_a_milvus_collection(corpus_dir, tmp_path):
    # In subprocesses only: Milvus Lite lets one process at a time open a .db file.
    backend = f"milvus:{tmp_path / 'm.db'}"
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_BACKEND=backend, QA_MODEL="py:fakes:FakeEmbedder")
    qa = [sys.executable, "-m", "qa"]
    subprocess.run([*qa, "index", str(corpus_dir), "-c", "docs"], env=env, check=True, capture_output=True)
    missing = subprocess.run([*qa, "serve", "-c", "other"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and missing.stderr.startswith("error: no collection 'other' in Milvus at ")
    process = subprocess.Popen([*qa, "serve", "-c", "docs", "--port", "0"], env=env, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    try:
        announced = process.stderr.readline()
        assert announced.startswith("qa serve: ") and "collection docs at http://127.0.0.1:" in announced
        url = re.search(r"http://\S+", announced).group().rstrip("/")
        found = httpx.post(f"{url}/api/ask", json={"question": "龙井茶产于哪里", "top_k": 2}, timeout=30)
        assert found.status_code == 200 and found.json()["hits"][0]["doc_path"] == "tea.txt"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0


@pytest.mark.parametrize("command, module", [("serve", "uvicorn"), ("mcp", "mcp")])
def test_without_the_serve_extra_the_commands_say_how_to_get_it(monkeypatch, tmp_path, command, module):
    for name in [m for m in sys.modules if m.startswith(("qa.interfaces.server", "qa.interfaces.mcp_server"))]:
        monkeypatch.delitem(sys.modules, name)
    for name in [module] + [m for m in sys.modules if m.startswith(module + ".")]:
        monkeypatch.setitem(sys.modules, name, None)  # what a missing package looks like to `import`
    result = CliRunner().invoke(app, [command, "--index-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: `qa {command}` needs the serve extra ({module} is missing): pip install 'qa[serve]'"


@pytest.mark.parametrize("request_bytes", [
    b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n{}",
    b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"NOT A REQUEST LINE\r\n\r\n",
])
def test_malformed_http_gets_the_api_s_json_error(request_bytes, tmp_path, fake_embedder):
    build_index(TEST_CORPUS_DIR, tmp_path / "index", embedder=fake_embedder)
    with running_server(create_app(LiveIndex(tmp_path / "index", embedder=fake_embedder))) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(request_bytes)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head.lower(), answer
    assert json.loads(body)["error"].startswith("bad HTTP request")
