"""Regression evaluation on fixed questions: golden files, metrics, snapshots.

A golden file (YAML, or JSON Lines with one query per line) lists queries:

    - id: q1
      question: 中央网络安全和信息化领导小组第一次会议是哪天召开的？
      doc: 001_35ad70771f1f9fde.txt     # the hit must come from this file (or one of a list) …
      paragraph: 1                      # … and paragraph (optional)
      page: 3                           # … and page, for paged formats such as PDF (optional)
      passage_ids: [dfa3bf692c6b]       # or be one of these passages (brittle under re-chunking)
      text: [2月27日]                   # or contain one of these (after normalization)
      answer: [2月27日]                 # the answer sentence must contain one of these
      top_k: 3                          # found within the top 3 (default 5)
      must_pass: true                   # fail the run if this one fails
      tags: [date, traditional]
      note: why this query is here
    - id: q2
      question: 2022年世界杯冠军是哪个国家？
      unanswerable: true                # no passage answers: passes when qa says so (top hit's
                                        # confidence below the threshold, qa.answer.confidence)

A hit is relevant when it meets every location given (passage_ids, doc, paragraph;
a folded copy listed in `also_in` counts) and contains one of `text` if given.
Unanswerable queries count in `passed` and `unanswerable_correct`, not in the rank metrics.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .answer.confidence import is_answered
from .errors import GoldenFileError
from .ingest.normalize import normalize
from .models import Hit

DEFAULT_TOP_K = 5
RECALL_KS = (1, 3, 5, 10)
SEARCH_DEPTH = 10  # metrics look this deep, whatever a query's own top_k


@dataclass(frozen=True)
class GoldenQuery:
    id: str
    question: str
    passage_ids: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    paragraph: int | None = None
    page: int | None = None
    text: tuple[str, ...] = ()
    answer: tuple[str, ...] = ()
    top_k: int = DEFAULT_TOP_K
    must_pass: bool = False
    tags: tuple[str, ...] = ()
    note: str = ""
    unanswerable: bool = False  # no passage answers it: qa must say so


@dataclass(frozen=True)
class QueryResult:
    id: str
    question: str
    rank: int | None  # 1-based rank of the first relevant hit within SEARCH_DEPTH
    passed: bool
    answer_hit: bool | None  # None when the query sets no answer expectation
    must_pass: bool
    top_k: int
    ndcg: float
    hits: list[dict] = field(default_factory=list)  # the top hits, for snapshots
    unanswerable: bool = False
    answered: bool | None = None  # whether qa found a passage that seems to answer


@dataclass(frozen=True)
class EvalReport:
    results: list[QueryResult]
    metrics: dict[str, float]

    @property
    def failed_must_pass(self) -> list[QueryResult]:
        return [r for r in self.results if r.must_pass and not r.passed]

    def to_dict(self) -> dict:
        return {"metrics": self.metrics, "results": [asdict(r) for r in self.results]}


def load_golden(path: Path | str) -> list[GoldenQuery]:
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GoldenFileError(f"cannot read golden file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise GoldenFileError(f"golden file {path} is not UTF-8 text") from None
    try:
        if path.suffix in (".jsonl", ".ndjson"):
            items = [_json_line(line, number) for number, line in enumerate(raw.splitlines(), start=1) if line.strip()]
        else:
            import yaml

            items = yaml.safe_load(raw)
            if isinstance(items, dict):
                items = items.get("queries")
    except Exception as exc:  # yaml/json syntax errors: one line for the user
        raise GoldenFileError(f"golden file {path} is not valid: {str(exc).splitlines()[0]}") from None
    if not isinstance(items, list) or not items:
        raise GoldenFileError(f"golden file {path} has no queries")
    queries = [_golden_query(item, n, path) for n, item in enumerate(items, start=1)]
    ids = [q.id for q in queries]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:  # a query without an id is q1, q2 …, by its place in the file
        raise GoldenFileError(f"golden file {path} repeats the query id {', '.join(repeated)}")
    return queries


def _json_line(line: str, number: int) -> object:
    try:
        return json.loads(line)
    except ValueError as exc:  # its position is on the line; which line is the file's
        raise ValueError(f"line {number}: {exc}") from None


def _golden_query(item: object, n: int, path: Path) -> GoldenQuery:
    if not isinstance(item, dict) or not str(item.get("question", "")).strip():
        raise GoldenFileError(f"golden file {path}: query {n} needs a question")
    if not isinstance(item["question"], (str, int, float)) or isinstance(item["question"], bool):
        raise GoldenFileError(f"golden file {path}: query {n} needs its question to be text, not {item['question']!r}")
    known = set(GoldenQuery.__dataclass_fields__) - {"docs"} | {"doc"}
    unknown = set(item) - known
    if unknown:
        raise GoldenFileError(f"golden file {path}: query {n} has unknown field(s) {', '.join(sorted(unknown))}")

    def strings(key: str) -> tuple[str, ...]:
        value = item.get(key) or ()
        return (str(value),) if isinstance(value, (str, int)) else tuple(str(v) for v in value)

    def positive(key: str) -> int | None:
        value = item.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GoldenFileError(f"golden file {path}: query {n} needs {key} to be a whole number of at least 1, not {value!r}")
        return value

    query = GoldenQuery(
        id=str(item.get("id") or f"q{n}"),
        question=str(item["question"]),
        passage_ids=strings("passage_ids"),
        docs=strings("doc"),
        paragraph=positive("paragraph"),
        page=positive("page"),
        text=strings("text"),
        answer=strings("answer"),
        top_k=positive("top_k") or DEFAULT_TOP_K,
        must_pass=bool(item.get("must_pass", False)),
        tags=strings("tags"),
        note=str(item.get("note") or ""),
        unanswerable=item.get("unanswerable", False),
    )
    if not isinstance(query.unanswerable, bool):
        raise GoldenFileError(f"golden file {path}: query {query.id} needs unanswerable to be true or false")
    if query.unanswerable:
        if query.passage_ids or query.docs or query.text or query.answer or query.paragraph:
            raise GoldenFileError(f"golden file {path}: query {query.id} is unanswerable, so it names no passage or answer")
        return query
    if not (query.passage_ids or query.docs or query.text):
        raise GoldenFileError(f"golden file {path}: query {query.id} says nothing about what counts as correct")
    return query


def is_relevant(hit: Hit, query: GoldenQuery) -> bool:
    places = [(hit.passage.id, hit.passage.doc_path, hit.passage.paragraph, hit.passage.page)]
    places += [(s.passage_id, s.doc_path, s.paragraph, s.page) for s in hit.also_in]

    def place_ok(passage_id: str, doc: str, paragraph: int, page: int | None) -> bool:
        return (
            (not query.passage_ids or passage_id in query.passage_ids)
            and (not query.docs or doc in query.docs)
            and (query.paragraph is None or paragraph == query.paragraph)
            and (query.page is None or page == query.page)
        )

    if not any(place_ok(*place) for place in places):
        return False
    return not query.text or contains_any(hit.passage.text, query.text)


def contains_any(text: str, needles: Iterable[str]) -> bool:
    """Match after normalization, so script, width and segmentation artifacts don't matter."""
    form = normalize(text).replace(" ", "")
    return any(normalize(needle).replace(" ", "") in form for needle in needles)


def evaluate(
    index,
    queries: list[GoldenQuery],
    mode: str = "hybrid",
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Run every query against `index` (anything with `.search(question, top_k, mode)`)."""
    results = []
    for n, query in enumerate(queries, start=1):
        hits = index.search(query.question, top_k=max(SEARCH_DEPTH, query.top_k), mode=mode)
        results.append(_judge(query, hits, mode))
        if progress:
            progress(n, len(queries))
    return EvalReport(results=results, metrics=metrics(results))


def _judge(query: GoldenQuery, hits: list[Hit], mode: str = "hybrid") -> QueryResult:
    answered = is_answered(hits, mode)
    if query.unanswerable:
        return QueryResult(
            id=query.id,
            question=query.question,
            rank=None,
            passed=not answered,
            answer_hit=None,
            must_pass=query.must_pass,
            top_k=query.top_k,
            ndcg=0.0,
            hits=[_snapshot_hit(hit) for hit in hits[: query.top_k]],
            unanswerable=True,
            answered=answered,
        )
    relevant = [is_relevant(hit, query) for hit in hits[:SEARCH_DEPTH]]
    rank = relevant.index(True) + 1 if any(relevant) else None
    answer_hit = None
    if query.answer:
        found = hits[rank - 1] if rank else None
        answer_hit = bool(found and found.answer and contains_any(found.answer.text, query.answer))
    passed = rank is not None and rank <= query.top_k and answer_hit is not False
    return QueryResult(
        id=query.id,
        question=query.question,
        rank=rank,
        passed=passed,
        answer_hit=answer_hit,
        must_pass=query.must_pass,
        top_k=query.top_k,
        ndcg=ndcg(relevant, max(1, len(query.passage_ids), sum(relevant))),
        hits=[_snapshot_hit(hit) for hit in hits[: query.top_k]],
        answered=answered,
    )


def ndcg(relevant: list[bool], n_relevant: int, k: int = 10) -> float:
    """Binary-relevance nDCG@k, with `n_relevant` relevant items in the ideal ranking."""
    dcg = sum(1 / math.log2(i + 2) for i, rel in enumerate(relevant[:k]) if rel)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(n_relevant, k)))
    return dcg / ideal if ideal else 0.0


def metrics(results: list[QueryResult]) -> dict[str, float]:
    """Recall@k (share of queries with a relevant hit in the top k), MRR@10, nDCG@10, answer-hit rate
    over the answerable queries; the share of unanswerable ones qa declared so; the share passed."""
    answerable = [r for r in results if not r.unanswerable]
    n = len(answerable) or 1
    out = {f"recall@{k}": sum(1 for r in answerable if r.rank and r.rank <= k) / n for k in RECALL_KS}
    out["mrr@10"] = sum(1 / r.rank for r in answerable if r.rank) / n
    out["ndcg@10"] = sum(r.ndcg for r in answerable) / n
    judged = [r for r in answerable if r.answer_hit is not None]
    out["answer_hit"] = sum(1 for r in judged if r.answer_hit) / len(judged) if judged else float("nan")
    unanswerable = [r for r in results if r.unanswerable]
    out["unanswerable_correct"] = sum(1 for r in unanswerable if r.passed) / len(unanswerable) if unanswerable else float("nan")
    out["passed"] = sum(1 for r in results if r.passed) / (len(results) or 1)
    return out


def _snapshot_hit(hit: Hit) -> dict:
    return {
        "passage_id": hit.passage.id,
        "doc_path": hit.passage.doc_path,
        "paragraph": hit.passage.paragraph,
        "answer": hit.answer.text if hit.answer else None,
    }


def check_snapshot_path(path: Path | str) -> None:
    """Fail before a long evaluation, not after it, when a snapshot could not be written there."""
    path = Path(path)
    if path.is_dir() or not path.parent.is_dir():
        raise GoldenFileError(f"cannot record a snapshot to {path}: {'it is a folder' if path.is_dir() else 'no such folder'}")


def record_snapshot(report: EvalReport, path: Path | str) -> None:
    """Write each query's top hits, so a later run can show what changed."""
    data = {r.id: {"question": r.question, "rank": r.rank, "hits": r.hits} for r in report.results}
    path = Path(path)
    check_snapshot_path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise GoldenFileError(f"cannot record a snapshot to {path}: {exc.strerror}") from None


def load_snapshot(path: Path | str) -> dict:
    """A snapshot `record_snapshot` wrote: {query id: {"question", "rank", "hits"}}."""
    try:
        before = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GoldenFileError(f"cannot read snapshot {path}: {exc}") from None
    shaped = isinstance(before, dict) and all(
        isinstance(entry, dict) and isinstance(entry.get("hits"), list) and all(isinstance(h, dict) and {"passage_id", "answer"} <= h.keys() for h in entry["hits"])
        for entry in before.values()
    )
    if not shaped:
        raise GoldenFileError(f"{path} is not a snapshot (`qa eval --record` writes them)")
    return before


def diff_snapshot(report: EvalReport, path: Path | str) -> list[str]:
    """Readable lines for every query whose rank, top hits or answer changed since the snapshot."""
    before = load_snapshot(path)
    lines = []
    for result in report.results:
        old = before.get(result.id)
        if old is None:
            lines.append(f"+ {result.id}: new query, {_rank(result.rank)}")
            continue
        changes = []
        if old.get("rank") != result.rank:
            changes.append(f"{_rank(old.get('rank'))} → {_rank(result.rank)}")
        old_ids = [h["passage_id"] for h in old.get("hits", [])]
        new_ids = [h["passage_id"] for h in result.hits]
        if old_ids != new_ids:
            changes.append(f"top passages {' '.join(old_ids) or '(none)'} → {' '.join(new_ids) or '(none)'}")
        old_answer = old["hits"][0]["answer"] if old.get("hits") else None
        new_answer = result.hits[0]["answer"] if result.hits else None
        if old_answer != new_answer:
            changes.append(f"answer «{_short(old_answer)}» → «{_short(new_answer)}»")
        if changes:
            lines.append(f"~ {result.id} ({_short(result.question)}): " + "; ".join(changes))
    for gone in sorted(set(before) - {r.id for r in report.results}):
        lines.append(f"- {gone}: query removed")
    return lines


def _rank(rank: int | None) -> str:
    return "not found" if rank is None else f"rank {rank}"


def _short(text: str | None, width: int = 40) -> str:
    if text is None:
        return "no answer"
    return text if len(text) <= width else text[: width - 1] + "…"
