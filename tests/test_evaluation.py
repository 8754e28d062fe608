import json
import math
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from qa.errors import GoldenFileError
from qa.evaluation import GoldenQuery, contains_any, diff_snapshot, evaluate, load_golden, ndcg, record_snapshot
from qa.models import Answer, Hit, Passage, Source


def make_hit(rank, doc, text, paragraph=1, answer=None, also_in=(), confidence=0.9):
    passage = Passage(id=f"{doc}-{paragraph}-{rank}", doc_path=doc, title="", section="", paragraph=paragraph, line_start=1, line_end=1, char_start=0, char_end=len(text), text=text)
    return Hit(passage=passage, score=1.0 / rank, rank=rank, answer=Answer(answer or text, 0, len(answer or text), 1.0), also_in=tuple(also_in), confidence=confidence)


class ToyIndex:
    """Returns fixed hit lists, so metrics can be computed by hand."""

    def __init__(self, hits_by_question):
        self.hits_by_question = hits_by_question

    def search(self, question, top_k=5, mode="hybrid"):
        return self.hits_by_question[question][:top_k]


def toy():
    other = lambda r: make_hit(r, "other.txt", "无关的内容")  # noqa: E731
    hits = {
        "q1": [make_hit(1, "a.txt", "答案在这里，1864只。", answer="1864只。"), other(2)],
        "q2": [other(1), other(2), make_hit(3, "a.txt", "答案")],
        "q3": [other(1), other(2)],
        "q4": [other(1), make_hit(2, "x.txt", "副本", also_in=[Source("p9", "a.txt", 4, 1, 1, 0, 2)])],
    }
    queries = [
        GoldenQuery(id="q1", question="q1", docs=("a.txt",), answer=("1864",)),
        GoldenQuery(id="q2", question="q2", docs=("a.txt",), top_k=2),
        GoldenQuery(id="q3", question="q3", docs=("a.txt",), must_pass=True),
        GoldenQuery(id="q4", question="q4", docs=("a.txt",), paragraph=4),
    ]
    return ToyIndex(hits), queries


def test_metrics_match_hand_computed_values():
    index, queries = toy()
    report = evaluate(index, queries)
    assert [r.rank for r in report.results] == [1, 3, None, 2]
    m = report.metrics
    assert m["recall@1"] == 0.25
    assert m["recall@3"] == 0.75 and m["recall@5"] == 0.75 and m["recall@10"] == 0.75
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4) + 0 + 1 / math.log2(3)) / 4)
    assert m["answer_hit"] == 1.0
    assert [r.passed for r in report.results] == [True, False, False, True]  # q2 found at 3 > its top_k 2
    assert [r.id for r in report.failed_must_pass] == ["q3"]


def test_unanswerable_queries_pass_when_qa_says_so_and_stay_out_of_the_rank_metrics():
    index, queries = toy()
    index.hits_by_question["u1"] = [make_hit(1, "other.txt", "无关的内容", confidence=0.01)]
    index.hits_by_question["u2"] = [make_hit(1, "other.txt", "无关的内容", confidence=0.99)]
    unanswerable = [GoldenQuery(id=u, question=u, unanswerable=True) for u in ("u1", "u2")]
    report = evaluate(index, queries + unanswerable)
    u1, u2 = report.results[-2:]
    assert (u1.passed, u1.answered, u1.rank) == (True, False, None)
    assert (u2.passed, u2.answered) == (False, True)
    m = report.metrics
    assert m["unanswerable_correct"] == 0.5
    assert m["recall@1"] == 0.25 and m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)  # as without them
    assert m["passed"] == 3 / 6
    assert math.isnan(evaluate(index, queries).metrics["unanswerable_correct"])


def test_unanswerable_golden_queries_load_and_name_no_answer(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text("- {id: cup, question: 2022年世界杯冠军是哪个国家？, unanswerable: true}\n", encoding="utf-8")
    (query,) = load_golden(path)
    assert query.unanswerable and not query.docs
    path.write_text("- {id: cup, question: x, unanswerable: true, doc: a.txt}\n", encoding="utf-8")
    with pytest.raises(GoldenFileError, match="names no passage or answer"):
        load_golden(path)
    path.write_text("- {id: cup, question: x, unanswerable: yes please}\n", encoding="utf-8")
    with pytest.raises(GoldenFileError, match="true or false"):
        load_golden(path)


def test_ndcg_with_several_relevant():
    assert ndcg([True, False, True], 2) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg([False, False], 1) == 0.0


def test_text_expectations_survive_script_and_segmentation():
    assert contains_any("網(wǎng)絡(luò)強國", ["网络强国"])
    assert contains_any("网络/强国/建设/目标", ["网络强国"])
    assert contains_any("栗 战书 出席", ["栗战书"])
    assert not contains_any("网络大国", ["网络强国"])


def test_answer_expectation_fails_a_query():
    index, _ = toy()
    query = GoldenQuery(id="q1", question="q1", docs=("a.txt",), answer=("不存在的答案",))
    (result,) = evaluate(index, [query]).results
    assert result.rank == 1 and result.answer_hit is False and not result.passed


def test_load_golden_yaml_and_jsonl(tmp_path):
    (tmp_path / "g.yaml").write_text("queries:\n  - id: a\n    question: 问题\n    doc: x.txt\n    paragraph: 2\n    top_k: 3\n    must_pass: true\n", encoding="utf-8")
    (query,) = load_golden(tmp_path / "g.yaml")
    assert (query.id, query.docs, query.paragraph, query.top_k, query.must_pass) == ("a", ("x.txt",), 2, 3, True)
    (tmp_path / "g.jsonl").write_text(json.dumps({"question": "问题", "text": "答案"}, ensure_ascii=False) + "\n", encoding="utf-8")
    (query,) = load_golden(tmp_path / "g.jsonl")
    assert query.id == "q1" and query.text == ("答案",)


@pytest.mark.parametrize(
    "content, message",
    [
        ("queries: []", "no queries"),
        ("- question: 问题\n", "says nothing about what counts as correct"),
        ("- doc: a.txt\n", "needs a question"),
        ("- question: 问题\n  doc: a\n  colour: red\n", "unknown field"),
        ("- question: [unclosed\n", "not valid"),
        ("- {id: a, question: x, doc: a}\n- {id: a, question: y, doc: a}\n", "repeats the query id a"),
        ("- {question: x, doc: a, top_k: abc}\n", "top_k to be a whole number"),
        ("- {question: x, doc: a, top_k: 0}\n", "top_k to be a whole number"),
        ("- {question: x, doc: a, paragraph: [1]}\n", "paragraph to be a whole number"),
        ("- {question: x, doc: a}\n- {id: q1, question: y, doc: a}\n", "repeats the query id q1"),  # the first is q1 by place
        ("- {question: [1, 2], doc: a}\n", "question to be text"),
    ],
)
def test_bad_golden_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "g.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GoldenFileError, match=message):
        load_golden(path)


def test_a_jsonl_error_names_its_line(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text('{"question": "x", "doc": "a"}\n{"question": \n', encoding="utf-8")
    with pytest.raises(GoldenFileError, match="line 2: "):
        load_golden(path)


def test_a_golden_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_bytes("- question: 问题\n  doc: a.txt\n".encode("gb18030"))
    with pytest.raises(GoldenFileError, match="not UTF-8"):
        load_golden(path)


@pytest.mark.parametrize("content", ["[1, 2]", '{"question": "q", "hits": [], "answered": true}', '{"q1": {"rank": 1, "hits": [{"passage_id": "x"}]}}'])
def test_a_file_that_is_not_a_snapshot_is_a_clear_error(tmp_path, content):
    index, queries = toy()
    (tmp_path / "other.json").write_text(content, encoding="utf-8")
    with pytest.raises(GoldenFileError, match="is not a snapshot"):
        diff_snapshot(evaluate(index, queries), tmp_path / "other.json")


def test_a_snapshot_cannot_be_recorded_to_a_folder_and_leaves_nothing_behind(tmp_path):
    index, queries = toy()
    (tmp_path / "snaps").mkdir()
    with pytest.raises(GoldenFileError, match="it is a folder"):
        record_snapshot(evaluate(index, queries), tmp_path / "snaps")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snaps"]


def test_snapshot_diff_shows_rank_and_answer_changes(tmp_path):
    index, queries = toy()
    record_snapshot(evaluate(index, queries), tmp_path / "snap.json")
    assert diff_snapshot(evaluate(index, queries), tmp_path / "snap.json") == []
    index.hits_by_question["q1"] = list(reversed(index.hits_by_question["q1"]))
    lines = diff_snapshot(evaluate(index, queries[:2]), tmp_path / "snap.json")
    assert any(line.startswith("~ q1") and "rank 1 → rank 2" in line and "answer" in line for line in lines)
    assert "- q3: query removed" in lines


def test_snapshot_diff_reads_plainly_when_a_query_loses_its_hits(tmp_path):
    index, queries = toy()
    record_snapshot(evaluate(index, queries), tmp_path / "snap.json")
    index.hits_by_question["q1"] = []
    (line,) = [line for line in diff_snapshot(evaluate(index, queries), tmp_path / "snap.json") if line.startswith("~ q1")]
    assert "rank 1 → not found" in line
    assert "→ (none)" in line and "«no answer»" in line
    assert "None" not in line and "→ ;" not in line


def test_qa_eval_cli_exit_codes(built_for_eval, tmp_path):
    from qa.interfaces.cli import app

    golden = tmp_path / "g.yaml"
    golden.write_text(
        "- {id: tea, question: 龙井茶产于哪里, doc: tea.txt, must_pass: true}\n- {id: none, question: 完全没有的内容, doc: nowhere.txt}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    ok = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), "--min-recall-at", "1=0.5"])
    assert ok.exit_code == 0, ok.output
    assert "tea" in ok.output and "R@1 0.500" in ok.output
    missed = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), "--min-recall-at", "1=0.9"])
    assert missed.exit_code == 1
    assert "threshold missed: recall@1 0.500 < 0.9" in missed.output
    golden.write_text("- {id: must, question: 完全没有的内容, doc: nowhere.txt, must_pass: true}\n", encoding="utf-8")
    failed = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), "--json", "--record", str(tmp_path / "s.json")])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["results"][0]["passed"] is False
    assert "must_pass query failed: must" in failed.output
    assert (tmp_path / "s.json").exists()
    bad = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), "--min-recall-at", "five"])
    assert bad.exit_code == 2 and "K=VALUE" in bad.output
    unmeasured = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), "--min-recall-at", "2=0.5"])
    assert unmeasured.exit_code == 2 and "measured at 1, 3, 5, 10, not at 2" in unmeasured.output
    for option in (["--min-recall-at", "5=1.5"], ["--min-mrr", "90"]):
        out_of_range = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), *option])
        assert out_of_range.exit_code == 2 and "takes a value from 0 to 1" in out_of_range.output
    unanswerable = tmp_path / "u.yaml"
    unanswerable.write_text("- {id: tea-again, question: 龙井茶产于哪里, unanswerable: true, must_pass: true}\n", encoding="utf-8")
    from qa.answer import confidence

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(confidence.THRESHOLD, "hybrid", 0.0)  # every top hit counts as an answer
        answered = runner.invoke(app, ["eval", str(unanswerable), "--index-dir", str(built_for_eval)])
    assert answered.exit_code == 1 and "must_pass query failed: tea-again (answered anyway)" in answered.output
    (tmp_path / "ask.json").write_text('{"question": "q", "hits": [], "answered": false}', encoding="utf-8")
    for option, path, message in (("--against", tmp_path / "ask.json", "is not a snapshot"), ("--record", tmp_path, "it is a folder")):
        refused = runner.invoke(app, ["eval", str(golden), "--index-dir", str(built_for_eval), option, str(path)])
        assert refused.exit_code == 2 and message in refused.output and "Traceback" not in refused.output
        assert "must_pass" not in refused.output  # refused before the questions were asked


def test_qa_eval_builds_the_index_like_ask_and_reports_one_query_plainly(corpus_dir, tmp_path, use_fake_model):
    from qa.interfaces.cli import app

    golden = tmp_path / "g.yaml"
    golden.write_text("- {id: tea, question: 龙井茶产于哪里, doc: tea.txt}\n", encoding="utf-8")
    snapshot = tmp_path / "snap.json"
    args = ["eval", str(golden), "--index-dir", str(tmp_path / "fresh"), "--corpus-dir", str(corpus_dir)]
    result = CliRunner().invoke(app, args + ["--record", str(snapshot)])
    assert result.exit_code == 0, result.output
    assert "No index in" in result.output and "indexing" in result.output
    assert "1 query, 100.0% passed" in result.output
    assert "answer hit n/a" in result.output and "nan" not in result.output
    assert f"Recorded 1 query to {snapshot}" in result.output
    assert json.loads(snapshot.read_text())["tea"]["rank"] == 1


@pytest.fixture
def built_for_eval(corpus_dir, tmp_path, use_fake_model):
    from qa import build_index

    build_index(corpus_dir, tmp_path / "index")
    return tmp_path / "index"


def test_a_golden_page_must_match_the_hit_or_a_folded_copy():
    def on_page(rank, page, also_in=()):
        hit = make_hit(rank, "r.pdf", "第二页的内容", also_in=also_in)
        return Hit(passage=replace(hit.passage, page=page), score=hit.score, rank=rank, answer=hit.answer, also_in=hit.also_in)

    index = ToyIndex({"q": [on_page(1, 1), on_page(2, 2)], "folded": [on_page(1, 1, also_in=[Source("p", "r.pdf", 1, 1, 1, 0, 6, page=3)])]})
    queries = [GoldenQuery(id="q", question="q", docs=("r.pdf",), page=2), GoldenQuery(id="folded", question="folded", docs=("r.pdf",), page=3)]
    assert [r.rank for r in evaluate(index, queries).results] == [2, 1]


def test_golden_files_may_name_a_page(tmp_path):
    (tmp_path / "g.yaml").write_text("- {question: 问题, doc: r.pdf, page: 12}\n", encoding="utf-8")
    assert load_golden(tmp_path / "g.yaml")[0].page == 12


def test_qa_exports_the_evaluate_function_as_readme_imports_it():
    import qa.evaluation  # once the module is imported, `from qa import evaluate` must still be the function

    from qa import evaluate as exported

    assert exported is qa.evaluation.evaluate
