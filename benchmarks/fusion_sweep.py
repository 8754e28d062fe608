"""How to combine the legs, measured on CMRC2018: candidate scores once, many fusions.

Runs after benchmarks/cmrc2018.py has built its index (same --work-dir). For every
question it collects the candidates of both legs with their scores, then ranks them
with each fusion rule and prints Recall@1/5/10 and MRR@10 of the gold paragraph.
With --passage-vectors it also embeds each passage whole, to compare scoring a
passage by its own vector with scoring it by its best sentence. (The answer
picker has its own script: benchmarks/answer_weights.py.)

    python benchmarks/fusion_sweep.py [--limit N] [--passage-vectors]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cmrc2018 import load_cmrc  # noqa: E402

from qa import load_index  # noqa: E402
from qa.ingest.normalize import normalize  # noqa: E402
from qa.search import _min_max  # noqa: E402


def rank_of_gold(order: list[int], passage_docs: list[str], gold: str) -> int | None:
    seen: list[str] = []
    for p in order:
        doc = passage_docs[p]
        if doc not in seen:
            seen.append(doc)
            if doc == gold:
                return len(seen)
            if len(seen) == 10:
                return None
    return None


def summarize(ranks: list[int | None]) -> str:
    n = len(ranks)
    r = lambda k: sum(1 for x in ranks if x and x <= k) / n  # noqa: E731
    mrr = sum(1 / x for x in ranks if x) / n
    return f"{r(1):.4f} | {r(5):.4f} | {r(10):.4f} | {mrr:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-cmrc2018"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--passage-vectors", action="store_true")
    args = parser.parse_args()
    _, queries = load_cmrc(args.data, args.limit)
    index = load_index(args.work_dir / "index")
    docs = [p.doc_path for p in index.passages]

    passage_vectors = None
    if args.passage_vectors:
        cache = args.work_dir / "passage_vectors.npy"
        if cache.exists():
            passage_vectors = np.load(cache)
        else:
            passage_vectors = index.embedder.embed([normalize(p.text) for p in index.passages])
            np.save(cache, passage_vectors)

    rules = {
        "dense (best sentence)": lambda d, l, c: d,
        "lexical": lambda d, l, c: l,
        "RRF k=60": None,
    }
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        rules[f"minmax both, w_dense={w}"] = lambda d, l, c, w=w: w * _min_max(d) + (1 - w) * _min_max(l)
    for w in (0.3, 0.4, 0.5, 0.6, 0.7):
        rules[f"minmax dense + lexical share, w_dense={w}"] = lambda d, l, c, w=w: w * _min_max(d) + (1 - w) * (l / c if c else 0 * l)
    for beta in (0.05, 0.1, 0.2, 0.3):
        rules[f"cosine + {beta} x lexical share"] = lambda d, l, c, beta=beta: d + beta * (l / c if c else 0 * l)

    ranks: dict[str, list] = {name: [] for name in rules}
    if passage_vectors is not None:
        ranks["dense (passage vector)"] = []
        ranks["dense (passage vector) + lexical, minmax w=0.5"] = []
    for query in queries:
        form = normalize(query.question)
        cand = index.candidates(query.question, form, "hybrid", pool=50)
        passages = cand.passages
        for name, rule in rules.items():
            if rule is None:
                d_rank = np.argsort(np.argsort(-cand.dense))
                l_rank = np.argsort(np.argsort(-cand.lexical))
                score = 1 / (60 + d_rank) + 1 / (60 + l_rank)
            else:
                score = rule(cand.dense, cand.lexical, cand.lexical_ceiling)
            order = [passages[i] for i in np.argsort(-score, kind="stable")]
            ranks[name].append(rank_of_gold(order, docs, query.docs[0]))
        if passage_vectors is not None:
            full = passage_vectors @ cand.query_vector
            ranks["dense (passage vector)"].append(rank_of_gold(list(np.argsort(-full)), docs, query.docs[0]))
            pv = full[passages]
            score = 0.5 * _min_max(pv) + 0.5 * _min_max(cand.lexical)
            ranks["dense (passage vector) + lexical, minmax w=0.5"].append(rank_of_gold([passages[i] for i in np.argsort(-score)], docs, query.docs[0]))

    print(f"{len(queries)} questions, {len(index.passages)} passages\n")
    print("| fusion | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    for name, values in ranks.items():
        print(f"| {name} | {summarize(values)} |")


if __name__ == "__main__":
    main()
