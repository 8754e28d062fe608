"""One index shared by many threads (as `qa serve` shares it), and one server asked by many
clients: every answer is the one asked alone."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa.interfaces.render_json import result_json
from qa.retrieve.filters import Filter
from qa.search import SearchRequest

QUESTIONS = ["龙井茶产于哪里", "大熊猫每天吃多少竹子", "地铁日均客运量约为多少人次", "玉山有多高", "Where does Longjing tea come from?", "城市交通"]
FILTERS = [None, Filter(("tea*",)), Filter(types=("md",)), Filter(("*.txt",))]
MODES = ["hybrid", "dense", "lexical"]


def asked(index, question, mode, where) -> str:
    try:
        result = index.ask(SearchRequest(question, top_k=3, mode=mode, where=where or Filter()))
    except Exception as exc:  # a filter that selects nothing: the same error each time
        return f"{type(exc).__name__}: {exc}"
    return json.dumps(json.loads(result_json(question, result)), sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("threads", [16])
def test_sixteen_threads_get_the_answers_asked_alone(fake_index, fake_embedder, threads):
    from qa import load_index

    cases = [(q, m, w) for q in QUESTIONS for m in MODES for w in FILTERS]
    alone = {i: asked(fake_index, *case) for i, case in enumerate(cases)}
    # A fresh instance of the same index: its lazily built parts (legs, forms, masks, document
    # numbers) are first built while sixteen threads ask at once.
    shared = load_index(fake_index.generation_dir.parent, embedder=fake_embedder)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        together = list(pool.map(lambda i: (i, asked(shared, *cases[i])), [i for _ in range(3) for i in range(len(cases))]))
    for i, answer in together:
        assert answer == alone[i], cases[i]


def test_sixteen_clients_of_one_server_get_the_answers_asked_alone(two_collections, fake_embedder):
    """Mixed questions, modes, filters and collections through one running `qa serve` app."""
    import httpx

    from conftest import running_server
    from qa.live import LiveIndex
    from qa.interfaces.server.app import create_app

    bodies = [
        {"question": q, "top_k": 3, "mode": m, **({"doc": ["tea*"]} if q == QUESTIONS[0] else {}), **({"collection": c} if c else {})}
        for q in QUESTIONS + ["黄鹤楼在哪里"] for m in MODES for c in (None, "cranes")
    ]

    def ask(client, body) -> str:
        response = client.post("/api/ask", json=body)
        return f"{response.status_code} {json.dumps(response.json(), sort_keys=True, ensure_ascii=False)}"

    with running_server(create_app(LiveIndex(two_collections, embedder=fake_embedder))) as url, httpx.Client(base_url=url, timeout=60) as client:
        alone = [ask(client, body) for body in bodies]
    # A second server, fresh: sixteen clients race to open the second collection, too.
    with running_server(create_app(LiveIndex(two_collections, embedder=fake_embedder), search_slots=4)) as url:
        with ThreadPoolExecutor(max_workers=16) as pool, httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_connections=16)) as client:
            together = list(pool.map(lambda i: (i, ask(client, bodies[i])), [i for _ in range(2) for i in range(len(bodies))]))
    assert any(a.startswith("200") and "crane.txt" in a for a in alone) and any(a.startswith("200") and "tea.txt" in a for a in alone)
    for i, answer in together:
        assert answer == alone[i], bodies[i]
