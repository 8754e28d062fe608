"""The HTTP API of `qa serve`: same JSON as the CLI, errors as JSON, token, traversal, limits, hot swap."""

import json
import os
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import BAD_SEARCH_REQUESTS, FakeEmbedder, refusal, running_server
from fakes import PrefersTea, SlowQueryEmbedder
from qa import build_index
from qa.interfaces.cli import app as cli_app
from qa.live import LiveIndex
from qa.interfaces.server.app import MAX_BODY_BYTES, create_app
from qa.storage.index_dir import current_generation


@pytest.fixture
def index_dir(corpus_dir, tmp_path, fake_embedder):
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    return index_dir


@pytest.fixture
def client(index_dir, fake_embedder):
    with TestClient(create_app(LiveIndex(index_dir, embedder=fake_embedder))) as client:
        yield client


def ask(client, question, **options):
    return client.post("/api/ask", json={"question": question, **options})


def test_ask_returns_exactly_what_qa_ask_json_prints(index_dir, client, use_fake_model):
    for question, top_k, mode in [("龙井茶产于哪里", 3, "hybrid"), ("大熊猫每天吃多少竹子", 5, "lexical"), ("珊瑚礁", 2, "dense")]:
        printed = CliRunner().invoke(cli_app, ["ask", question, "--index-dir", str(index_dir), "--json", "-k", str(top_k), "--mode", mode])
        assert printed.exit_code == 0, printed.output
        response = ask(client, question, top_k=top_k, mode=mode)
        assert response.status_code == 200
        assert response.json() == json.loads(printed.output)
    assert response.json()["hits"], "the comparison must cover real hits"


@pytest.mark.parametrize("options", BAD_SEARCH_REQUESTS, ids=lambda options: ",".join(options))
def test_a_bad_request_is_refused_in_the_libraries_words(client, options):
    response = ask(client, **options)
    assert response.status_code == 400 and response.json() == {"error": refusal(options)}


def test_ask_defaults_and_the_answer_sentence(client):
    data = ask(client, "龙井茶产于哪里").json()
    assert data["mode"] == "hybrid" and 1 <= len(data["hits"]) <= 5
    hit = data["hits"][0]
    assert hit["doc_path"] == "tea.txt"
    assert hit["char_start"] <= hit["answer"]["char_start"] < hit["answer"]["char_end"] <= hit["char_end"]


def test_a_dense_only_collection_answers_dense_and_refuses_the_rest(corpus_dir, tmp_path, fake_embedder):
    backend = f"milvus:{tmp_path / 'qa.db'}"
    build_index(corpus_dir, None, embedder=fake_embedder, backend=backend, mode="dense")
    with TestClient(create_app(LiveIndex(None, embedder=fake_embedder, backend=backend))) as client:
        assert client.get("/api/info").json()["modes"] == ["dense"]
        data = ask(client, "龙井茶产于哪里").json()
        assert data["mode"] == "dense" and data["hits"][0]["doc_path"] == "tea.txt"
        refused = ask(client, "龙井茶产于哪里", mode="hybrid")
        assert refused.status_code == 400 and "dense-only collection" in refused.json()["error"]
        assert ask(client, "龙井茶产于哪里", mode="dense").status_code == 200  # and the server stays up


def test_a_server_wide_reranker_reorders_every_question(index_dir, fake_embedder):
    with TestClient(create_app(LiveIndex(index_dir, embedder=fake_embedder), reranker=PrefersTea())) as client:
        assert ask(client, "大熊猫每天吃多少竹子").json()["hits"][0]["doc_path"] == "tea.txt"


def test_a_request_names_its_collection(two_collections, fake_embedder):
    with TestClient(create_app(LiveIndex(two_collections, embedder=fake_embedder))) as client:
        listed = client.get("/api/collections").json()
        assert listed["default"] == "default" and [c["name"] for c in listed["collections"]] == ["cranes", "default"]
        assert listed["collections"][0]["file_count"] == 1 and listed["collections"][0]["modes"] == ["hybrid", "dense", "lexical"]
        hit = ask(client, "黄鹤楼在哪里", collection="cranes").json()["hits"][0]
        assert hit["doc_path"] == "crane.txt"
        assert ask(client, "黄鹤楼在哪里").json()["hits"][0]["doc_path"] != "crane.txt"  # the default collection
        assert client.get(f"/api/passages/{hit['passage_id']}", params={"collection": "cranes"}).json()["cited"][0]["doc_path"] == "crane.txt"
        assert client.get(f"/api/passages/{hit['passage_id']}").status_code == 404
        assert client.get("/api/documents/crane.txt", params={"collection": "cranes"}).status_code == 200
        assert client.get("/api/info", params={"collection": "cranes"}).json()["collection"] == "cranes"
        missing = ask(client, "黄鹤楼在哪里", collection="nope")
        assert missing.status_code == 404 and missing.json()["error"] == "no collection 'nope': GET /api/collections lists them"
        assert ask(client, "黄鹤楼在哪里", collection="../etc").status_code == 400


@pytest.mark.parametrize(
    "body, message",
    [
        ({"question": "？？？"}, "no words to search for"),
        ({"question": ""}, "question"),
        ({"question": "茶" * 2001}, "question"),
        ({"question": "茶", "top_k": 0}, "top_k"),
        ({"question": "茶", "top_k": 101}, "top_k"),
        ({"question": "茶", "mode": "fuzzy"}, "mode"),
        ({"question": "茶", "collection": "no such/name"}, "bad collection name"),
        ({"question": "茶", "colection": "x"}, "colection"),  # misspelt: refused, not ignored
        ({"top_k": 3}, "question"),
        ({"question": "茶", "top_k": True}, "top_k"),  # not read as 1
        ({"question": "茶", "top_k": "3"}, "top_k"),
        ({"question": 3}, "question"),
    ],
)
def test_bad_input_is_400_with_a_json_error(client, body, message):
    response = client.post("/api/ask", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_body_that_is_not_json_is_400(client):
    response = client.post("/api/ask", content=b"question=tea", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"].startswith("the body is not valid JSON")


@pytest.mark.parametrize("host, status", [("127.0.0.1:8000", 200), ("localhost", 200), ("[::1]:8000", 200), ("attacker.example", 400), ("localhost.attacker.example:80", 400)])
def test_only_the_allowed_host_names_are_answered_with_json_errors(index_dir, fake_embedder, host, status):
    app = create_app(LiveIndex(index_dir, embedder=fake_embedder), allowed_hosts=["127.0.0.1", "localhost", "::1"])
    with TestClient(app) as client:
        response = client.get("/api/info", headers={"Host": host})
    assert response.status_code == status
    if status == 400:
        assert "answers only to" in response.json()["error"]


def test_a_body_over_the_limit_is_413_whether_or_not_it_says_its_length(client):
    big = json.dumps({"question": "茶" * MAX_BODY_BYTES}).encode()
    assert client.post("/api/ask", content=big, headers={"content-type": "application/json"}).status_code == 413

    def chunks():  # no Content-Length: the server has to count
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    response = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


def test_passage_with_its_context_is_what_qa_show_prints(client, index_dir):
    hit = ask(client, "地铁日均客运量约为多少人次").json()["hits"][0]
    data = client.get(f"/api/passages/{hit['passage_id']}", params={"around": 1}).json()
    shown = CliRunner().invoke(cli_app, ["show", hit["passage_id"], "--around", "1", "--json", "--index-dir", str(index_dir)])
    assert shown.exit_code == 0, shown.output
    assert data == json.loads(shown.output)
    assert [p["id"] for p in data["cited"]] == [hit["passage_id"]] and data["cited"][0]["text"] == hit["text"]
    assert data["before"] or data["after"], "the test needs a passage with neighbours"
    assert client.get(f"/api/passages/{hit['passage_id']}", params={"around": 51}).status_code == 400


def test_unknown_passage_and_document_are_404(client):
    for path in ("/api/passages/nope", "/api/documents/nope.txt", "/api/nothing-here"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "error" in response.json()


def test_document_text_with_passage_boundaries(client, corpus_dir):
    data = client.get("/api/documents/tea.txt").json()
    assert data["text"] == (corpus_dir / "tea.txt").read_text(encoding="utf-8")
    assert data["passages"] and all("text" not in p for p in data["passages"])
    for p in data["passages"]:
        assert 0 <= p["char_start"] < p["char_end"] <= len(data["text"])


def test_a_document_in_a_subfolder_is_served(tmp_path, fake_embedder):
    corpus_dir = tmp_path / "nested"
    (corpus_dir / "sub").mkdir(parents=True)
    (corpus_dir / "sub" / "note.txt").write_text("黄山位于安徽省南部，以奇松怪石著称。", encoding="utf-8")
    build_index(corpus_dir, tmp_path / "nested-index", embedder=fake_embedder)
    with TestClient(create_app(LiveIndex(tmp_path / "nested-index", embedder=fake_embedder))) as client:
        assert client.get("/api/documents/sub/note.txt").json()["text"].startswith("黄山")


def test_nothing_outside_the_indexed_documents_is_served(client, corpus_dir, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("密码", encoding="utf-8")
    for raw_path in [
        "/api/documents/../secret.txt",
        "/api/documents/%2e%2e/secret.txt",
        "/api/documents/..%2fsecret.txt",
        f"/api/documents/{secret}",
        f"/api/documents/%2F{str(secret).lstrip('/')}",
        "/api/documents/tea.txt/../../secret.txt",
    ]:
        response = client.get(raw_path)
        assert response.status_code == 404, raw_path
        assert "密码" not in response.text


def test_symlinks_out_of_the_corpus_are_not_served(tmp_path, fake_embedder):
    corpus_dir = tmp_path / "linked"
    corpus_dir.mkdir()
    (corpus_dir / "tea.txt").write_text("龙井茶产于浙江省杭州市西湖一带。", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("密码是一二三四。", encoding="utf-8")
    os.symlink(secret, corpus_dir / "link.txt")
    build_index(corpus_dir, tmp_path / "linked-index", embedder=fake_embedder)
    with TestClient(create_app(LiveIndex(tmp_path / "linked-index", embedder=fake_embedder))) as client:
        assert client.get("/api/documents/link.txt").status_code == 404
        # a listed file swapped for a symlink afterwards: what is served is the text the index holds
        (corpus_dir / "tea.txt").unlink()
        os.symlink(secret, corpus_dir / "tea.txt")
        served = client.get("/api/documents/tea.txt")
        assert served.status_code == 200 and "密码" not in served.text


def test_info_and_healthz(client, index_dir):
    info = client.get("/api/info").json()
    assert info["generation"] == current_generation(index_dir).name
    assert info["model"] == "fake" and info["files"] == 7 and info["passages"] > 7
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_no_index_is_503_everywhere(tmp_path, fake_embedder):
    with TestClient(create_app(LiveIndex(tmp_path / "none", embedder=fake_embedder))) as client:
        for response in (ask(client, "龙井茶"), client.get("/api/info"), client.get("/api/passages/x"), client.get("/healthz")):
            assert response.status_code == 503
            assert "no index in" in json.dumps(response.json(), ensure_ascii=False)
        assert client.get("/").status_code == 200  # the page still loads, and says what is wrong


def test_the_docs_and_the_page_need_no_cdn(client):
    docs = client.get("/docs").text
    assert "/docs-static/swagger-ui-bundle.js" in docs and "cdn." not in docs
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/passages/{passage_id}", "/api/documents/{doc_path}", "/api/info", "/healthz"} <= set(schema["paths"])
    for name in ("index.html", "app.js", "style.css"):
        page = client.get("/" if name == "index.html" else f"/static/{name}")
        assert page.status_code == 200, name
        assert "http://" not in page.text and "https://" not in page.text, name


def test_a_token_is_required_on_every_api_call_when_set(index_dir, fake_embedder):
    with TestClient(create_app(LiveIndex(index_dir, embedder=fake_embedder), token="s3cret")) as client:
        calls = [lambda h: client.post("/api/ask", json={"question": "龙井茶"}, headers=h), lambda h: client.get("/api/info", headers=h), lambda h: client.get("/api/documents/tea.txt", headers=h)]
        for call in calls:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}, {"Authorization": "Basic s3cret"}, {"Authorization": "Bearer s3cre"}):
                response = call(headers)
                assert response.status_code == 401
                assert response.headers["www-authenticate"] == "Bearer"
                assert "token" in response.json()["error"]
            assert call({"Authorization": "Bearer s3cret"}).status_code == 200
            assert call({"Authorization": "bearer s3cret"}).status_code == 200, "the scheme is case-insensitive (RFC 7235)"
        assert client.get("/").status_code == 200  # the page itself holds no data; it asks for the token


def test_a_slow_search_times_out_with_504_and_does_not_hold_the_server(index_dir):
    slow = SlowQueryEmbedder(query_seconds=1.5)
    with TestClient(create_app(LiveIndex(index_dir, embedder=slow), search_slots=1, search_seconds=0.4)) as client:
        results = {}

        def first():
            results["first"] = ask(client, "龙井茶")

        thread = threading.Thread(target=first)
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
        queued = ask(client, "大熊猫")  # waits for the only slot, then gives up
        assert queued.status_code == 504 and time.monotonic() - started < 1.0
        thread.join()
        assert results["first"].status_code == 504
        assert "longer than 0.4 s" in results["first"].json()["error"]
        assert client.get("/healthz").status_code == 200  # everything else kept answering
        time.sleep(1.5)  # the overrun search returns and frees its slot
        slow.query_seconds = 0
        assert ask(client, "龙井茶").status_code == 200


def test_a_rebuild_is_picked_up_without_a_restart(index_dir, corpus_dir, client, fake_embedder):
    before = client.get("/api/info").json()["generation"]
    (corpus_dir / "new.txt").write_text("敦煌莫高窟始建于十六国的前秦时期，是世界上现存规模最大的佛教艺术地。", encoding="utf-8")
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    assert client.get("/api/info").json()["generation"] != before
    assert ask(client, "莫高窟始建于什么时期").json()["hits"][0]["doc_path"] == "new.txt"
    assert client.get("/api/documents/new.txt").status_code == 200


def test_a_search_in_flight_finishes_on_the_generation_it_started_with(index_dir, corpus_dir):
    gate = threading.Event()

    class GatedEmbedder(FakeEmbedder):
        def embed(self, texts, is_query=False):
            if is_query and not gate.is_set():
                gate.wait(10)
            return super().embed(texts, is_query)

    embedder = GatedEmbedder()
    live = LiveIndex(index_dir, embedder=embedder)
    with running_server(create_app(live)) as url:
        results = {}
        thread = threading.Thread(target=lambda: results.setdefault("old", httpx.post(f"{url}/api/ask", json={"question": "龙井茶产于哪里", "top_k": 10}, timeout=20)))
        thread.start()
        time.sleep(0.3)  # the search is under way on the first generation
        (corpus_dir / "tea.txt").unlink()
        build_index(corpus_dir, index_dir, embedder=FakeEmbedder())
        gate.set()
        thread.join()
        new = httpx.post(f"{url}/api/ask", json={"question": "龙井茶产于哪里", "top_k": 10}).json()
    old = results["old"]
    assert old.status_code == 200
    assert "tea.txt" in [h["doc_path"] for h in old.json()["hits"]]
    assert "tea.txt" not in [h["doc_path"] for h in new["hits"]]


def test_a_damaged_new_generation_does_not_take_the_server_down(index_dir, corpus_dir, client, fake_embedder):
    serving = client.get("/api/info").json()["generation"]
    (corpus_dir / "new.txt").write_text("敦煌莫高窟始建于十六国的前秦时期。", encoding="utf-8")
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    (current_generation(index_dir) / "dense.faiss").write_bytes(b"not a faiss index")
    assert ask(client, "龙井茶").status_code == 200
    health = client.get("/healthz").json()
    assert health["generation"] == serving
    assert "damaged" in health["reload_error"]
    assert "damaged" in client.get("/api/info").json()["reload_error"]
    (corpus_dir / "new.txt").unlink()
    build_index(corpus_dir, index_dir, embedder=fake_embedder)  # a good build after the bad one
    health = client.get("/healthz").json()
    assert health["generation"] == current_generation(index_dir).name and health["reload_error"] is None


def test_a_pdf_is_served_as_the_text_its_passages_cite_with_their_pages(tmp_path, fake_embedder):
    corpus_dir = tmp_path / "pdfs"
    corpus_dir.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "documents" / "report.pdf", corpus_dir)
    build_index(corpus_dir, tmp_path / "pdf-index", embedder=fake_embedder)
    with TestClient(create_app(LiveIndex(tmp_path / "pdf-index", embedder=fake_embedder))) as client:
        hit = ask(client, "截至2023年6月网民规模有多大").json()["hits"][0]
        assert hit["page"] >= 1
        data = client.get("/api/documents/report.pdf").json()
    assert data["format"] == "pdf" and data["title"] == "中国互联网发展状况统计报告"
    cited = next(p for p in data["passages"] if p["passage_id"] == hit["passage_id"])
    assert cited["page"] == hit["page"]
    assert data["text"][cited["char_start"] : cited["char_end"]] == hit["text"]


def test_ask_takes_the_document_filters_qa_ask_takes(client):
    only_tea = ask(client, "龙井茶产于哪里", top_k=10, doc=["tea*"])
    assert only_tea.status_code == 200, only_tea.text
    assert {h["doc_path"] for h in only_tea.json()["hits"]} == {"tea.txt"}
    markdown = ask(client, "城市交通", type=["md"]).json()["hits"]
    assert markdown and {h["doc_path"] for h in markdown} == {"transport.md"}
    for body, message in (({"type": ["xls"]}, "unknown document type 'xls'"), ({"doc": ["nothing-*"]}, "no indexed document matches --doc nothing-*")):
        response = ask(client, "龙井茶", **body)
        assert response.status_code == 400 and message in response.json()["error"], response.text
    assert ask(client, "龙井茶", doc="tea.txt").status_code == 400, "a list, as in JSON, not a string"


def test_overload_is_refused_at_once_with_503_and_retry_after(index_dir):
    from qa.interfaces.server.app import QUEUE_PER_SLOT

    slow = SlowQueryEmbedder(query_seconds=0.5)
    with TestClient(create_app(LiveIndex(index_dir, embedder=slow), search_slots=1, search_seconds=30)) as client:
        results = []

        def one():
            started = time.monotonic()
            response = ask(client, "龙井茶")
            results.append((response, time.monotonic() - started))

        threads = [threading.Thread(target=one) for _ in range(QUEUE_PER_SLOT + 4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(response.status_code for response, _ in results)
        assert statuses.count(200) >= QUEUE_PER_SLOT and 503 in statuses and set(statuses) <= {200, 503}, statuses
        for response, seconds in results:
            if response.status_code == 503:
                assert response.headers["retry-after"] == "1" and "busy" in response.json()["error"]
                assert seconds < 0.5, "refused at once, not after waiting"


def test_a_search_whose_slot_comes_too_late_is_not_run(index_dir):
    slow = SlowQueryEmbedder(query_seconds=0.85)
    with TestClient(create_app(LiveIndex(index_dir, embedder=slow), search_slots=1, search_seconds=1.0)) as client:
        first = threading.Thread(target=lambda: ask(client, "龙井茶"))
        first.start()
        time.sleep(0.1)
        late = ask(client, "大熊猫吃什么")  # its slot frees with ~0.15 s of its 1 s left
        first.join()
        assert late.status_code == 504
        time.sleep(1.0)  # time enough for a search started anyway to have embedded its question
        assert not any("大熊猫" in text for text in slow.embedded), "its search was never started"
