"""How the indexes grow: build time, memory and query latency against corpus size.

Part 1, dense: synthetic clustered unit vectors (dim 384, like the default model) at
each size; exact (flat) search against the approximate indexes (IVF, and HNSW up to
200k vectors, whose build is slow on 2 cores), with recall@10 against exact.
Part 2, lexical: BM25 over synthetic Zipf-distributed token documents.
Part 3, end to end: the CMRC2018 index (from benchmarks/cmrc2018.py) replicated to
N passages with perturbed vectors, searched with the real CMRC questions in hybrid
mode; latency excludes the query embedding. `--backends local,milvus:/tmp/s.db` runs it
on Milvus Lite too (time to build the indexes or write the collection; the process's memory growth,
which includes the embedded Milvus Lite).

    python benchmarks/scale.py [--sizes 10000,100000,1000000] [--parts dense,lexical,e2e]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import SearchRequest, load_index  # noqa: E402
from qa.storage import dense  # noqa: E402
from qa.storage.lexical import LexicalIndex  # noqa: E402

DIM = 384


def clustered_vectors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors around n/100 centres: embeddings of real text cluster by topic."""
    centres = rng.standard_normal((max(n // 100, 10), DIM)).astype(np.float32)
    vectors = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(start + 100_000, n)
        vectors[start:stop] = centres[rng.integers(0, len(centres), stop - start)] + 0.6 * rng.standard_normal((stop - start, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def timed_queries(index, queries: np.ndarray, k: int = 10) -> tuple[list[float], list[np.ndarray]]:
    times, results = [], []
    for q in queries:
        started = time.perf_counter()
        ids, _ = dense.search_faiss(index, q, k)
        times.append(time.perf_counter() - started)
        results.append(ids)
    return times, results


def index_bytes(index) -> int:
    import faiss

    with tempfile.NamedTemporaryFile() as handle:
        faiss.write_index(index, handle.name)
        return Path(handle.name).stat().st_size


def dense_table(sizes: list[int], hnsw_everywhere: bool = False) -> None:
    rng = np.random.default_rng(0)
    print("| vectors | index | build s | bytes/vector | p50 ms | p95 ms | recall@10 vs exact |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        vectors = clustered_vectors(n, rng)
        queries = vectors[rng.integers(0, n, 200)] + 0.05 * rng.standard_normal((200, DIM)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        exact = None
        kinds = ["flat", "ivf"] + (["hnsw"] if n <= 200_000 or hnsw_everywhere else [])
        for kind in kinds:
            started = time.perf_counter()
            index = dense.build_faiss(vectors, kind)
            build = time.perf_counter() - started
            dense.tune_for_search(index)
            times, results = timed_queries(index, queries)
            if kind == "flat":
                exact = results
            recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(results, exact)])
            chosen = " (chosen)" if kind == dense.choose_index_type(n) else ""
            print(
                f"| {n:,} | {kind}{chosen} | {build:.1f} | {index_bytes(index) / n:.0f} | {statistics.median(times) * 1e3:.2f} "
                f"| {np.percentile(times, 95) * 1e3:.2f} | {recall:.4f} |",
                flush=True,
            )
        del vectors


def lexical_table(sizes: list[int]) -> None:
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(200_000)]
    zipf = 1 / np.arange(1, len(words) + 1) ** 1.1
    zipf /= zipf.sum()
    print("\n| documents | BM25 build s | postings MB | p50 ms | p95 ms |")
    print("|---|---|---|---|---|")
    for n in sizes:
        draws = rng.choice(len(words), size=(n, 40), p=zipf)
        documents = [[words[i] for i in row] for row in draws]
        started = time.perf_counter()
        lexical = LexicalIndex().index_tokens(documents)
        build = time.perf_counter() - started
        megabytes = (lexical.indptr.nbytes + lexical.doc_ids.nbytes + lexical.weights.nbytes) / 2**20
        times = []
        for row in rng.choice(len(words), size=(200, 6), p=zipf):
            started = time.perf_counter()
            lexical.token_scores([words[i] for i in row])
            times.append(time.perf_counter() - started)
        print(f"| {n:,} | {build:.1f} | {megabytes:.0f} | {statistics.median(times) * 1e3:.2f} | {np.percentile(times, 95) * 1e3:.2f} |", flush=True)
        del documents, lexical


def end_to_end(sizes: list[int], work_dir: Path, questions: int, backends: list[str]) -> None:
    """Each size on each backend: `local` (FAISS and BM25 in memory) and Milvus backends by URI."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cmrc2018 import load_cmrc

    base = load_index(work_dir / "index", backend="local")
    _, queries = load_cmrc(ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json", questions)
    print("\n| backend | passages | sentence vectors | index | build s | RSS growth MB | hybrid p50 ms | hybrid p95 ms | (query embedding excluded) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        contents = replicated(base, max(n // len(base.passages), 1), np.random.default_rng(2))
        for backend in backends:
            rss = _rss_mb()
            started = time.perf_counter()
            index = _open(backend, contents, base)
            built = time.perf_counter() - started
            index.search("预热", top_k=1)
            times = []
            for query in queries:
                timings = index.ask(SearchRequest(query.question, top_k=5)).timings
                times.append(sum(v for k, v in timings.items() if k != "embed_query"))
            print(
                f"| {backend} | {len(contents.passages):,} | {len(contents.vectors):,} | {index.manifest.index_type} | {built:.1f} | {_rss_mb() - rss:.0f} "
                f"| {statistics.median(times) * 1e3:.1f} | {np.percentile(times, 95) * 1e3:.1f} | |",
                flush=True,
            )
            del index
        del contents


def replicated(base, copies: int, rng: np.random.Generator):
    """The base index `copies` times over (each copy's files in a folder of its own), vectors perturbed."""
    from dataclasses import replace

    from qa.storage.records import Contents
    from qa.models import Document

    passages = [replace(p, id=f"{c}-{p.id}", doc_path=f"c{c}/{p.doc_path}") for c in range(copies) for p in base.passages]
    units = np.concatenate([base.store.units + np.array([c * len(base.passages), 0, 0]) for c in range(copies)])
    vectors = np.concatenate([base.store.vectors] + [base.store.vectors + 0.02 * rng.standard_normal(base.store.vectors.shape).astype(np.float32) for _ in range(copies - 1)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    files = [dict(f, path=f"c{c}/{f['path']}") for c in range(copies) for f in base.manifest.files]
    return Contents(
        manifest=replace(base.manifest, files=files),
        passages=passages,
        documents=[Document(path=f["path"], text="") for f in files],  # the search never reads them
        units=units,
        vectors=vectors,
        unit_keys=[f"{i:040d}" for i in range(len(units))],
        passage_forms=base.store.forms["passages"] * copies,
        unit_forms=base.store.forms["units"] * copies,
    )


def _open(backend: str, contents, base):
    from qa.storage.local import LocalStore
    from qa.search import Index

    if backend == "local":
        kind = dense.choose_index_type(len(contents.vectors))
        faiss_index = dense.build_faiss(contents.vectors, kind)
        dense.tune_for_search(faiss_index)
        from qa.storage.bm25 import tokenize

        tokens = [tokenize(form, normalized=True) for form in base.store.forms["passages"]]
        # Questions cut with the base index's small dictionary, as an index loaded from disk cuts them.
        lexical = LexicalIndex().index_tokens(tokens * (len(contents.passages) // len(tokens)), query_tokenizer=base.store.lexical.index.query_tokenizer())
        forms = {"passages": contents.passage_forms, "units": contents.unit_forms}
        store = LocalStore.in_memory(replace(contents.manifest, index_type=kind), contents.passages, contents.units, contents.vectors, forms, faiss_index, lexical)
        return Index(store, embedder=base.embedder)
    from qa.storage.backend import parse_backend
    from qa.storage.milvus import MilvusWriter

    MilvusWriter(parse_backend(backend).uri, "scale").write(contents, rewrite=True)
    return load_index(None, embedder=base.embedder, backend=backend, collection="scale")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--e2e-sizes", default="10000,100000")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-cmrc2018"))
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--parts", default="dense,lexical,e2e")
    parser.add_argument("--backends", default="local", help="end to end on these: local and/or milvus:PATH.db, a Milvus URI")
    parser.add_argument("--hnsw-everywhere", action="store_true", help="also build HNSW above 200k vectors (slow here)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    parts = args.parts.split(",")
    if "dense" in parts:
        dense_table(sizes, args.hnsw_everywhere)
    if "lexical" in parts:
        lexical_table(sizes)
    if "e2e" in parts:
        end_to_end([int(s) for s in args.e2e_sizes.split(",")], args.work_dir, args.questions, args.backends.split(","))


if __name__ == "__main__":
    main()
