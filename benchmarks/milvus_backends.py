"""One collection on three backends: local FAISS, Milvus Lite, and a real Milvus server.

CMRC2018's 848 paragraphs, dense mode, on one core (this process and a server it starts are
pinned to CPU 0). Every sentence and question is embedded once, before any timing, so the
figures are the backends': build time (read, chunk, write and publish; no embedding), query
latency p50/p95 (the whole search but the question's embedding), R@1 against the gold
paragraph, and agreement@1 with local (the share of questions whose top hit is local's).

    python benchmarks/milvus_backends.py [--server-command PATH/milvus-server | --server URI] [--limit N]

`--server-command` starts that server (pip's milvus==2.3.5 ships one: `milvus-server`) on free
ports with a fresh data folder and stops it at the end; `--server URI` uses one already
running (it is not pinned then). Without either, only local and Milvus Lite run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from cmrc2018 import load_cmrc, percentile  # noqa: E402
from qa import SearchRequest, build_index, load_index  # noqa: E402
from qa.embedding.embedders import load_embedder  # noqa: E402


class Memo:
    """The real embedder, each text embedded once: later builds and searches read the memo."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.spec, self.dim, self.engine = embedder.spec, embedder.dim, getattr(embedder, "engine", None)
        self.seen: dict[tuple[str, bool], np.ndarray] = {}

    def embed(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (t, is_query) not in self.seen))
        if missing:
            for text, vector in zip(missing, self.embedder.embed(missing, is_query=is_query)):
                self.seen[(text, is_query)] = vector
        return np.stack([self.seen[(t, is_query)] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def run(name: str, corpus_dir: Path, where: dict, embedder: Memo, queries, local_tops: list[str] | None) -> tuple[dict, list[str]]:
    build_index(corpus_dir, embedder=embedder, rebuild=True, **where)  # warm: the server's first flush and index build
    started = time.perf_counter()
    report = build_index(corpus_dir, embedder=embedder, rebuild=True, **where)
    seconds = time.perf_counter() - started
    index = load_index(embedder=embedder, **{key: value for key, value in where.items() if key != "mode"})
    if index.manifest.published_at is not None:  # a Milvus reader reads Strong for a minute after a build: time the reads after it
        time.sleep(max(0.0, float(index.manifest.published_at) + 61 - time.time()))
    latencies, tops = [], []
    for query in queries:
        embedder.embed([query.question], is_query=True)
        started = time.perf_counter()
        result = index.ask(SearchRequest(query.question, top_k=10, mode="dense"))
        latencies.append(time.perf_counter() - started - result.timings.get("embed_query", 0.0))
        hits = result.hits
        tops.append(hits[0].passage.doc_path if hits else "")
    gold = statistics.fmean(top in q.docs for top, q in zip(tops, queries))
    agreement = statistics.fmean(a == b for a, b in zip(tops, local_tops)) if local_tops else 1.0
    return {
        "backend": name, "build_s": seconds, "passages": report.passages, "sentences": report.units,
        "p50_ms": percentile(latencies, 0.5) * 1e3, "p95_ms": percentile(latencies, 0.95) * 1e3, "r1": gold, "agree1": agreement,
    }, tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "qa-bench-milvus")
    parser.add_argument("--limit", type=int, default=1000, help="ask the first N questions (0: all 3,219)")
    parser.add_argument("--server", help="a running Milvus server's URI")
    parser.add_argument("--server-command", type=Path, help="start this milvus-server for the run")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: benchmark data not found: {args.data}")
    paragraphs, queries = load_cmrc(args.data, args.limit or None)
    shutil.rmtree(args.work_dir, ignore_errors=True)
    corpus_dir = args.work_dir / "corpus"
    corpus_dir.mkdir(parents=True)
    for pid, text in paragraphs.items():
        (corpus_dir / f"{pid}.txt").write_text(text, encoding="utf-8")
    embedder = Memo(load_embedder("e5-small"))
    started = time.perf_counter()
    build_index(corpus_dir, args.work_dir / "warm", embedder=embedder)
    embedder.embed([q.question for q in queries], is_query=True)
    print(f"embedded {len(embedder.seen)} sentences and questions once in {time.perf_counter() - started:.0f} s (not in the figures)", flush=True)
    os.sched_setaffinity(0, {0})  # one core from here on, for this process and the server it starts

    server = None
    if args.server_command:
        from milvus_server import MilvusServer

        server = MilvusServer(args.server_command, args.work_dir / "milvus-server")
        server.start()
    backends = [("local FAISS", {"index_dir": args.work_dir / "local", "backend": "local"}),
                ("Milvus Lite", {"index_dir": None, "backend": f"milvus:{args.work_dir / 'lite.db'}", "collection": "cmrc", "mode": "dense"})]
    uri = server.uri if server else args.server
    try:
        if uri:
            from qa.storage.milvus import _client, server_version

            backends.append((f"Milvus server {server_version(_client(uri))}", {"index_dir": None, "backend": uri, "collection": "cmrc", "mode": "dense"}))
        print(f"{len(queries)} CMRC2018 questions, dense mode, one core\n")
        print("| backend | build s | query p50 ms | query p95 ms | R@1 | agreement@1 with local |")
        print("|---|---|---|---|---|---|")
        local_tops = None
        for name, where in backends:
            row, tops = run(name, corpus_dir, where, embedder, queries, local_tops)
            local_tops = local_tops or tops
            print(f"| {row['backend']} | {row['build_s']:.1f} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {row['r1']:.4f} | {row['agree1']:.4f} |", flush=True)
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
