"""One index shared by many threads (as `qa serve` shares it): every answer is the one asked alone."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa import render
from qa.filters import Filter

QUESTIONS = ["龙井茶产于哪里", "大熊猫每天吃多少竹子", "地铁日均客运量约为多少人次", "玉山有多高", "Where does Longjing tea come from?", "城市交通"]
FILTERS = [None, Filter(("tea*",)), Filter(types=("md",)), Filter(("*.txt",))]
MODES = ["hybrid", "dense", "lexical"]


def asked(index, question, mode, where) -> str:
    try:
        hits = index.search(question, top_k=3, mode=mode, where=where)
    except Exception as exc:  # a filter that selects nothing: the same error each time
        return f"{type(exc).__name__}: {exc}"
    return json.dumps(json.loads(render.hits_json(question, hits, mode)), sort_keys=True, ensure_ascii=False)


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
