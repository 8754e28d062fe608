"""`qa mcp` over stdio, driven by the official MCP SDK's own client."""

import json
import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from conftest import BAD_SEARCH_REQUESTS, refusal
from qa import build_index
from qa.embedding.embedders import load_embedder

TESTS_DIR = Path(__file__).parent
FAKE_MODEL = "py:fakes:FakeEmbedder"  # importable by the server process, with tests/ on PYTHONPATH


@pytest.fixture
def index_dir(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=load_embedder(FAKE_MODEL))
    return index_dir


def server(index_dir, *options):
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return StdioServerParameters(command=sys.executable, args=["-m", "qa", "mcp", "--index-dir", str(index_dir), *options], env=env)


def with_session(index_dir, use, *options):
    async def main():
        with open(os.devnull, "w") as quiet:
            async with stdio_client(server(index_dir, *options), errlog=quiet) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await use(session)

    return anyio.run(main)


def test_the_tools_are_listed_with_their_arguments(index_dir):
    async def use(session):
        return {tool.name: tool for tool in (await session.list_tools()).tools}

    tools = with_session(index_dir, use)
    assert set(tools) == {"search", "get_passage", "list_collections"}
    assert set(tools["search"].input_schema["properties"]) == {"question", "top_k", "mode", "doc", "type", "collection"}
    assert tools["search"].input_schema["required"] == ["question"]
    assert set(tools["get_passage"].input_schema["properties"]) == {"passage_id", "around", "collection"}


def test_search_then_get_passage(index_dir):
    async def use(session):
        found = await session.call_tool("search", {"question": "龙井茶产于哪里", "top_k": 3})
        hit = found.structured_content["hits"][0]
        passage = await session.call_tool("get_passage", {"passage_id": hit["passage_id"], "around": 1})
        return found, passage

    found, passage = with_session(index_dir, use)
    assert not found.is_error
    data = found.structured_content
    assert json.loads(found.content[0].text) == data  # the same for clients that read only text
    assert data["question"] == "龙井茶产于哪里" and 1 <= len(data["hits"]) <= 3
    hit = data["hits"][0]
    assert hit["doc_path"] == "tea.txt" and hit["paragraph"] >= 1 and hit["line_start"] >= 1
    assert "龙井茶" in hit["answer"]["text"]
    assert not passage.is_error
    (cited,) = passage.structured_content["cited"]
    assert cited["id"] == hit["passage_id"] and cited["text"] == hit["text"]


def test_search_on_a_milvus_collection(corpus_dir, tmp_path):
    # `qa index` in a subprocess too: Milvus Lite lets one process at a time open a .db file.
    import subprocess

    backend = ["--backend", f"milvus:{tmp_path / 'm.db'}", "-c", "docs"]
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_MODEL=FAKE_MODEL)
    subprocess.run([sys.executable, "-m", "qa", "index", str(corpus_dir), *backend], env=env, check=True, capture_output=True)

    async def use(session):
        found = await session.call_tool("search", {"question": "龙井茶产于哪里", "top_k": 2})
        passage = await session.call_tool("get_passage", {"passage_id": found.structured_content["hits"][0]["passage_id"]})
        return found, passage

    found, passage = with_session(tmp_path / "unused", use, *backend)
    assert not found.is_error and found.structured_content["hits"][0]["doc_path"] == "tea.txt"
    assert not passage.is_error and passage.structured_content["cited"][0]["doc_path"] == "tea.txt"


def test_a_dense_only_collection_searches_dense_and_refuses_the_rest(corpus_dir, tmp_path):
    import subprocess

    backend = ["--backend", f"milvus:{tmp_path / 'm.db'}"]
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_MODEL=FAKE_MODEL)
    subprocess.run([sys.executable, "-m", "qa", "index", str(corpus_dir), *backend, "--mode", "dense"], env=env, check=True, capture_output=True)

    async def use(session):
        return (
            await session.call_tool("search", {"question": "龙井茶产于哪里", "top_k": 2}),
            await session.call_tool("search", {"question": "龙井茶产于哪里", "mode": "lexical"}),
        )

    found, refused = with_session(tmp_path / "unused", use, *backend)
    assert not found.is_error and found.structured_content["mode"] == "dense"
    assert found.structured_content["hits"][0]["doc_path"] == "tea.txt"
    assert refused.is_error and "dense-only collection" in refused.content[0].text


def test_collections_are_listed_and_named_per_call(index_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "crane.txt").write_text("黄鹤楼位于武汉蛇山之巅。", encoding="utf-8")
    build_index(other, index_dir, embedder=load_embedder(FAKE_MODEL), collection="cranes")

    async def use(session):
        listed = await session.call_tool("list_collections", {})
        found = await session.call_tool("search", {"question": "黄鹤楼在哪里", "top_k": 1, "collection": "cranes"})
        passage = await session.call_tool("get_passage", {"passage_id": found.structured_content["hits"][0]["passage_id"], "collection": "cranes"})
        missing = await session.call_tool("search", {"question": "黄鹤楼在哪里", "collection": "nope"})
        return listed, found, passage, missing

    listed, found, passage, missing = with_session(index_dir, use)
    assert [c["name"] for c in listed.structured_content["collections"]] == ["cranes", "default"]
    assert found.structured_content["hits"][0]["doc_path"] == "crane.txt"
    assert passage.structured_content["cited"][0]["doc_path"] == "crane.txt"
    assert missing.is_error and missing.content[0].text.endswith("no collection 'nope': the list_collections tool lists them")


def test_a_server_wide_reranker_reorders_every_search(index_dir):
    from fakes import PrefersTea
    from qa.live import LiveIndex
    from qa.interfaces.mcp_server import create_server

    server = create_server(LiveIndex(index_dir, embedder=load_embedder(FAKE_MODEL)), reranker=PrefersTea())
    found = anyio.run(server.call_tool, "search", {"question": "大熊猫每天吃多少竹子", "top_k": 5})
    assert found.structured_content["hits"][0]["doc_path"] == "tea.txt"


def test_search_takes_the_document_filters_qa_ask_takes(index_dir):
    async def use(session):
        return (
            await session.call_tool("search", {"question": "龙井茶产于哪里", "top_k": 10, "doc": ["tea*"]}),
            await session.call_tool("search", {"question": "城市交通", "type": ["md"]}),
            await session.call_tool("search", {"question": "龙井茶", "type": ["xls"]}),
        )

    only_tea, markdown, unknown = with_session(index_dir, use)
    assert {h["doc_path"] for h in only_tea.structured_content["hits"]} == {"tea.txt"}
    assert {h["doc_path"] for h in markdown.structured_content["hits"]} == {"transport.md"}
    assert unknown.is_error and "unknown document type 'xls'" in unknown.content[0].text


def test_errors_are_tool_errors_the_agent_can_read(index_dir):
    async def use(session):
        return (
            await session.call_tool("get_passage", {"passage_id": "nope"}),
            await session.call_tool("search", {"question": "？？？"}),
            await session.call_tool("search", {"question": "龙井茶", "top_k": 100000}),
            await session.call_tool("search", {"question": "龙井茶", "top_k": "3"}),
            await session.call_tool("search", {"question": "茶" * 2001}),
        )

    unknown, wordless, too_many, text_top_k, too_long = with_session(index_dir, use)
    assert unknown.is_error and "no passage 'nope'" in unknown.content[0].text
    assert wordless.is_error and "no words to search for" in wordless.content[0].text
    assert too_many.is_error and "top_k must be a whole number from 1 to 100" in too_many.content[0].text  # as the CLI and HTTP refuse it
    # As the HTTP API refuses them: a top_k in quotes, a question over 2,000 characters.
    assert text_top_k.is_error and "top_k" in text_top_k.content[0].text
    assert too_long.is_error and "longer than 2000 characters" in too_long.content[0].text


def test_a_bad_request_is_refused_in_the_libraries_words(index_dir):
    async def use(session):
        return [await session.call_tool("search", options) for options in BAD_SEARCH_REQUESTS]

    for options, refused in zip(BAD_SEARCH_REQUESTS, with_session(index_dir, use)):
        assert refused.is_error and refused.content[0].text.removeprefix("Error executing tool search: ") == refusal(options), options


def test_no_index_is_one_line_and_exit_2(tmp_path):
    import subprocess

    result = subprocess.run([sys.executable, "-m", "qa", "mcp", "--index-dir", str(tmp_path / "none")], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: no index in ") and len(result.stderr.splitlines()) == 1
