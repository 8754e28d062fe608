"""Fit the answer picker's feature weights (qa/answer/picker.py WEIGHTS) on several kinds of text at once.

Runs on the indexes benchmarks/guard.py builds (same --work-dir): CMRC2018 (every third
question), XQuAD's English and Chinese questions, the seed golden set (the questions with
`answer:`) and the real documents (the answerable questions). For every question it takes the
hybrid top hit, computes qa.answer.picker.sentence_features for its sentences and marks the
sentences holding an answer. The weights maximize the likelihood of those sentences under a
softmax over each hit's sentences (questions whose top hit holds no answer are left out).

It prints, for each set, the answer hit rate (before narrowing) of the weights now in
qa/answer/picker.py, of weights fitted on the other sets only (each set held out in turn), and of
weights fitted on every set; then the weights fitted on every set, with and without the
alignment features (UNALIGNED_WEIGHTS).

    python benchmarks/answer_weights.py [--work-dir /tmp/qa-guard] [--sets cmrc,xquad_en,…]
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
from qa.answer import picker as answer  # noqa: E402
from qa.retrieve.align import QuestionAlignment  # noqa: E402
from qa.evaluation import contains_any  # noqa: E402
from qa.ingest.normalize import normalize  # noqa: E402

MARGINS = (-1.0, 0.5, 1.0, 1.5)  # -1: never join a neighbour


def collect(index, queries):
    """Per question: feature rows of its top hit's sentences as qa.search makes them (the
    question's form with its translations, its vector moved to its gloss, token states as the
    index keeps them), the sentences' original texts, its answers and its document."""
    from qa.retrieve import crosslingual
    from qa.search import CANDIDATES

    position = {p.id: i for i, p in enumerate(index.passages)}
    rows = []
    for query in queries:
        hits = index.search(query.question, top_k=1)
        if not hits:
            continue
        p = position[hits[0].passage.id]
        form = normalize(query.question)
        candidates = index.candidates(query.question, form, "hybrid", CANDIDATES)
        sentences = index.sentences(p)
        matches = None
        if index.aligner is not None:
            alignment = QuestionAlignment(index.aligner, form, stored=index.store.passage_tokens, question=candidates.question_states)
            alignment.compute({p: sentences.forms})
            matches = alignment.sentences(p)
        answer_form = crosslingual.with_translations(query.question, form, candidates.gloss)
        features = answer.sentence_features(hits[0].passage, sentences, answer_form, candidates.query_vector, matches)
        offset = hits[0].passage.char_start
        texts = [hits[0].passage.text[a - offset : b - offset] for a, b in sentences.spans]
        rows.append((features, texts, query.answer, query.docs[0] if query.docs else query.id))
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


def questions(name: str, work_dir: Path):
    """(index, queries as GoldenQuery) of one set, on the index guard.py built."""
    from crosslingual import load_xquad
    from realdocs import load_questions

    from qa.evaluation import GoldenQuery, load_golden

    bench = ROOT.parent / "shared" / "bench"
    if name == "cmrc":
        return work_dir / "cmrc" / "index", load_cmrc(bench / "cmrc2018_dev.json", None)[1][::3]
    if name.startswith("xquad_"):
        return work_dir / "xquad" / "index", load_xquad(bench / "xquad_zh_en_dev.json")[1][name[len("xquad_") :]]
    if name == "seed":
        return work_dir / "seed" / "index", [q for q in load_golden(ROOT / "tests" / "golden" / "seed.yaml") if q.answer]
    if name == "realdocs":
        found = load_questions(bench / "realdocs")
        return work_dir / "realdocs" / "index", [GoldenQuery(id=q["id"], question=q["question"], docs=(q["file"],), answer=tuple(q["answer"])) for q in found if q["file"]]
    raise SystemExit(f"error: unknown set {name}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-guard"))
    parser.add_argument("--sets", default="cmrc,xquad_en,xquad_zh,seed,realdocs")
    args = parser.parse_args()
    rows = {}
    for name in args.sets.split(","):
        index_dir, queries = questions(name, args.work_dir)
        rows[name] = collect(load_index(index_dir), queries)
        print(f"{name}: {len(rows[name])} questions", flush=True)
    everything = [r for found in rows.values() for r in found]
    fitted_all = fit(everything)
    print("\nanswer hit before narrowing (margin 1.0); held out = fitted on the other sets only\n")
    print("| set | questions | oracle | qa/answer/picker.py | held out | fitted on all |\n|---|---|---|---|---|---|")
    for name, found in rows.items():
        held_out = fit([r for other, f in rows.items() if other != name for r in f])
        rates = [hit_rates(found, lambda i, w=w: w)[2][1] for w in (answer.WEIGHTS, held_out, fitted_all)]
        oracle = sum(any(contains_any(t, a) for t in texts) for _, texts, a, _ in found) / len(found)
        print(f"| {name} | {len(found)} | {oracle:.4f} | " + " | ".join(f"{r:.4f}" for r in rates) + " |")
    unaligned = []
    for features, *rest in everything:
        features = features.copy()
        features[:, [answer.FEATURES.index("focus_aligned"), answer.FEATURES.index("asked_aligned")]] = 0.0
        unaligned.append((features, *rest))
    print("\nfitted on every set (WEIGHTS; then without the alignment, UNALIGNED_WEIGHTS):")
    for name, value, without in zip(answer.FEATURES, fitted_all, fit(unaligned)):
        print(f"  {name:15s} {value:8.2f} {without:8.2f}")


if __name__ == "__main__":
    main()
