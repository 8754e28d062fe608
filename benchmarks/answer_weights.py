"""Fit the answer picker's feature weights (qa/answer.py WEIGHTS) on CMRC2018.

Runs after benchmarks/cmrc2018.py has built its index (same --work-dir). For every
question it takes the hybrid top hit, computes qa.answer.sentence_features for its
sentences and marks the sentences holding a gold answer. The weights maximize the
likelihood of those sentences under a softmax over each hit's sentences (questions
whose top hit holds no answer are left out). It prints 2-fold cross-validated answer
hit rates (folds split by paragraph, so no paragraph is in both), the rates of the
weights now in qa/answer.py, and the weights fitted on all questions.

    python benchmarks/answer_weights.py [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cmrc2018 import load_cmrc  # noqa: E402

from qa import answer, load_index  # noqa: E402
from qa.align import QuestionAlignment  # noqa: E402
from qa.evaluation import contains_any  # noqa: E402
from qa.normalize import normalize  # noqa: E402

MARGINS = (-1.0, 0.5, 1.0, 1.5)  # -1: never join a neighbour


def collect(index, queries):
    """Per question: feature rows, the sentences' original texts, and which hold an answer."""
    position = {p.id: i for i, p in enumerate(index.passages)}
    rows = []
    for query in queries:
        (hit,) = index.search(query.question, top_k=1)
        p = position[hit.passage.id]
        form = normalize(query.question)
        sentences = index.sentences(p)
        query_vector = index.embedder.embed([form], is_query=True)[0]
        matches = None
        if index.aligner is not None:
            alignment = QuestionAlignment(index.aligner, form)
            alignment.compute({p: sentences.forms})
            matches = alignment.sentences(p, len(sentences.forms))
        features = answer.sentence_features(hit.passage, sentences, form, query_vector, matches)
        offset = hit.passage.char_start
        texts = [hit.passage.text[a - offset : b - offset] for a, b in sentences.spans]
        rows.append((features, texts, query.answer, query.docs[0]))
    return rows


def fit(rows, l2: float = 1e-3, steps: int = 400, rate: float = 0.5) -> np.ndarray:
    """Softmax regression over each question's sentences, by full-batch gradient descent."""
    xs, ys = [], []
    for features, texts, answers, _ in rows:
        gold = np.array([contains_any(t, answers) for t in texts], dtype=np.float64)
        if gold.any():
            xs.append(features.astype(np.float64))
            ys.append(gold / gold.sum())
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    lengths = np.array([len(f) for f in xs])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    owner = np.repeat(np.arange(len(xs)), lengths)
    mean, scale = x.mean(0), x.std(0) + 1e-9  # standardized, so one rate suits every feature
    x = (x - mean) / scale
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[owner])
        p = e / np.add.reduceat(e, starts)[owner]
        w -= rate * (x.T @ (p - y) / len(xs) + l2 * w)
    return w / scale


def hit_rates(rows, weights_for) -> list[tuple[float, float, float]]:
    """(margin, answer hit, median highlighted characters) for each margin."""
    out = []
    for margin in MARGINS:
        hits, lengths = 0, []
        for i, (features, texts, answers, _) in enumerate(rows):
            chosen = sorted(answer.choose(features @ weights_for(i), margin))
            text = "".join(texts[chosen[0] : chosen[-1] + 1])
            hits += contains_any(text, answers)
            lengths.append(len(text))
        out.append((margin, hits / len(rows), float(np.median(lengths))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-cmrc2018"))
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    _, queries = load_cmrc(args.data, args.limit)
    rows = collect(load_index(args.work_dir / "index"), queries)

    fold = [zlib.crc32(doc.encode()) % 2 for *_, doc in rows]
    fitted = [fit([r for r, f in zip(rows, fold) if f != k]) for k in (0, 1)]
    oracle = sum(any(contains_any(t, a) for t in texts) for _, texts, a, _ in rows) / len(rows)
    print(f"{len(rows)} questions; oracle (some sentence of the top hit holds an answer): {oracle:.4f}\n")
    print("| weights | neighbour margin | answer hit | median chars |\n|---|---|---|---|")
    for name, weights_for in (
        ("2-fold cross-validated fit", lambda i: fitted[fold[i]]),  # fitted[k] never saw fold k
        ("qa/answer.py WEIGHTS", lambda i: answer.WEIGHTS),
    ):
        for margin, rate, chars in hit_rates(rows, weights_for):
            print(f"| {name} | {margin} | {rate:.4f} | {chars:.0f} |")
    unaligned = []
    for features, *rest in rows:
        features = features.copy()
        features[:, [answer.FEATURES.index("focus_aligned"), answer.FEATURES.index("asked_aligned")]] = 0.0
        unaligned.append((features, *rest))
    print("\nfitted on all questions (WEIGHTS; then without the alignment, UNALIGNED_WEIGHTS):")
    for name, value, without in zip(answer.FEATURES, fit(rows), fit(unaligned)):
        print(f"  {name:15s} {value:8.2f} {without:8.2f}")


if __name__ == "__main__":
    main()
