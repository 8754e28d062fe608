"""The seed corpus's golden questions, as a regression test with the real default model.

Thresholds: when the set grew to 78 answerable questions (71 with `answer:`, many of them
in sentences of hundreds of characters, and bylines and English questions that retrieval
still misses), hybrid retrieval gave Recall@5 0.974 and MRR@10 0.907. Each query is about
1.3% of a metric, so the floors below let one or two queries move without noise failures
but fail a change that loses more, and any failing must_pass query fails the run.
"""

import unicodedata
from pathlib import Path

import pytest

from qa.answer.picker import NARROW_CHARS
from qa.evaluation import contains_any, evaluate, load_golden

pytestmark = pytest.mark.model

GOLDEN_PATH = Path(__file__).parent / "golden" / "seed.yaml"
MIN_RECALL_AT_5 = 0.95
MIN_MRR = 0.89
MIN_TOP_ANSWER_HIT = 0.80  # the top hit's highlight holds the answer; see test_seed_golden_answers_are_highlighted


def test_golden_set_is_large_and_covers_every_document_and_kind():
    queries = load_golden(GOLDEN_PATH)
    assert len(queries) >= 40
    docs = {d for q in queries for d in q.docs}
    assert len(docs) >= 4
    tags = {t for q in queries for t in q.tags}
    assert {"fact", "paraphrase", "traditional", "english", "keyword"} <= tags


def test_seed_golden_set_passes(e5_seed_index):
    report = evaluate(e5_seed_index, load_golden(GOLDEN_PATH))
    failed = [(r.id, r.rank) for r in report.results if not r.passed]
    assert report.metrics["recall@5"] >= MIN_RECALL_AT_5, failed
    assert report.metrics["mrr@10"] >= MIN_MRR, failed
    assert report.failed_must_pass == [], failed


def test_seed_golden_answers_are_highlighted(e5_seed_index):
    """The top hit's highlight holds the answer for most questions that give one: the figure
    that fell from 0.86 to 0.69 unseen when the picker was fitted on CMRC2018 alone."""
    queries = [q for q in load_golden(GOLDEN_PATH) if q.answer]
    report = evaluate(e5_seed_index, queries)
    held = [r.id for r, q in zip(report.results, queries) if r.hits and r.hits[0]["answer"] and contains_any(r.hits[0]["answer"], q.answer)]
    assert len(held) / len(queries) >= MIN_TOP_ANSWER_HIT, sorted({q.id for q in queries} - set(held))


def test_breaking_pinyin_stripping_fails_the_golden_set(tmp_path, monkeypatch):
    """Index and search with a normalizer that forgets glued pinyin: the regression test must notice."""
    import qa.builder
    import qa.search
    import qa.storage.bm25
    from qa import build_index, load_index
    from qa.ingest.normalize import join_segmented, to_simplified

    def without_pinyin_stripping(text):
        return to_simplified(unicodedata.normalize("NFKC", join_segmented(text))).lower()

    for module in (qa.builder, qa.storage.bm25, qa.search):
        monkeypatch.setattr(module, "normalize", without_pinyin_stripping)
    build_index(Path(__file__).parents[1] / "corpus", tmp_path / "index")
    report = evaluate(load_index(tmp_path / "index"), load_golden(GOLDEN_PATH))
    assert {"complete-date", "complete-leading-group"} & {r.id for r in report.failed_must_pass}, "a broken normalizer went unnoticed"


def test_a_run_on_headline_answer_narrows_to_the_clauses_with_the_date(e5_seed_index):
    # 003 ¶1 glues its headline to the report's first sentence: 249 characters before narrowing.
    (hit,) = e5_seed_index.search("网络安全和信息化工作座谈会是哪天召开的？", top_k=1)
    assert hit.passage.doc_path.startswith("003_")
    assert "19日" in hit.answer.text and len(hit.answer.text) <= NARROW_CHARS
