"""Fit and judge qa/answer/confidence.py: does the top hit's confidence tell answerable questions from the rest?

Data, built so that no question is judged by an index holding its paragraph by accident:
- CMRC2018 dev and XQuAD zh/en (../shared/bench/) are each split in two halves of
  paragraphs (XQuAD: alternate paragraphs of each article, so every article has
  paragraphs in both), and each half is indexed on its own (the full benchmark index,
  if there, is copied first so its embeddings are reused).
- answerable: a question asked of the half holding its paragraph;
  in-domain unanswerable: the same question asked of the other half (same collection;
  for XQuAD the same article, answer absent);
  off-topic: the other collection's questions (XQuAD's in English and in Chinese).
- Fit / report: articles are split in two by a hash; the model is fitted on the questions
  of one part (all three kinds), and every figure below is measured on the other.

The model is a logistic regression over qa.answer.confidence.FEATURES of the top 3 hits
(label: the hit is the question's paragraph), one per mode. The threshold is the
confidence below which 3% of the fit part's answerable questions fall. Prints the
held-out AUROCs and error rates, for the fitted weights and for those in qa/answer/confidence.py,
and the constants to put there.

    python benchmarks/confidence.py [--cmrc-share 3]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cmrc2018 import load_cmrc  # noqa: E402
from crosslingual import DEFAULT_DATA as XQUAD_DATA  # noqa: E402
from crosslingual import load_xquad, write_corpus  # noqa: E402

from qa import SearchRequest, build_index, load_index  # noqa: E402
from qa.answer import confidence  # noqa: E402

TOP_K = 3
MODES = ("hybrid", "dense", "lexical")
# Features a mode has no leg for are left out of its model.
UNUSED = {
    "hybrid": (),
    "dense": ("lexical_share", "lexical_margin", "coverage", "latin_lexical_share", "aligned", "latin_aligned"),
    "lexical": ("cosine", "cosine_over_pool", "cosine_margin", "latin_cosine", "latin_cosine_margin", "aligned", "latin_aligned"),
}
ANSWERABLE_MISSED = 0.03  # the threshold lets this share of answerable questions fall below it


@dataclass(frozen=True)
class Question:
    text: str
    doc: str  # the file of its paragraph
    collection: str  # "cmrc" or "xquad"
    language: str
    part: int  # 0: fit, 1: report
    half: int  # which half index holds its paragraph


@dataclass
class Asked:
    question: Question
    kind: str  # answerable, in-domain, off-topic
    features: dict  # mode -> (TOP_K, features) array
    labels: dict  # mode -> (TOP_K,) array: the hit is the question's paragraph


def part_of(key: str) -> int:
    return zlib.crc32(f"part:{key}".encode()) % 2


def collections(cmrc_path: Path, xquad_path: Path, cmrc_share: int):
    """Paragraphs (pid -> text) and questions of both collections, each with its half."""
    cmrc_paragraphs, cmrc_queries = load_cmrc(cmrc_path, None)
    cmrc_half = {pid: zlib.crc32(pid.encode()) % 2 for pid in cmrc_paragraphs}
    questions = [
        Question(q.question, q.docs[0], "cmrc", "zh", part_of(q.docs[0]), cmrc_half[q.docs[0][:-4]])
        for q in cmrc_queries
        if zlib.crc32(q.id.encode()) % cmrc_share == 0
    ]
    xquad_paragraphs, xquad_queries, articles = load_xquad(xquad_path)
    xquad_half = {pid: int(pid.split("_")[1]) % 2 for pid in xquad_paragraphs}
    for language, queries in xquad_queries.items():
        for q in queries:
            pid = q.docs[0][:-4]
            questions.append(Question(q.question, q.docs[0], "xquad", language, part_of(articles[pid]), xquad_half[pid]))
    return {"cmrc": (cmrc_paragraphs, cmrc_half), "xquad": (xquad_paragraphs, xquad_half)}, questions


def half_index(work_dir: Path, name: str, half: int, paragraphs: dict[str, str], halves: dict[str, int], full_index_dir: Path):
    target = work_dir / f"{name}-{half}"
    write_corpus({pid: text for pid, text in paragraphs.items() if halves[pid] == half}, target / "corpus")
    if not (target / "index").exists() and full_index_dir.exists():
        shutil.copytree(full_index_dir, target / "index")  # its embeddings are reused
    build_index(target / "corpus", target / "index", replace=True)  # replaces the copied collection
    return load_index(target / "index")


def ask_all(indexes, questions: list[Question], modes: tuple[str, ...]) -> list[Asked]:
    asked = []
    for (name, half), index in indexes.items():
        for q in questions:
            kind = ("answerable" if q.half == half else "in-domain") if q.collection == name else "off-topic"
            features, labels = {}, {}
            for mode in modes:
                result = index.ask(SearchRequest(q.text, top_k=TOP_K, mode=mode))
                hits = result.hits
                rows = np.zeros((TOP_K, len(confidence.FEATURES)))
                rows[: len(hits)] = result.confidence_features[: len(hits)]
                features[mode] = rows
                labels[mode] = np.array([i < len(hits) and hits[i].passage.doc_path == q.doc for i in range(TOP_K)], dtype=float)
            asked.append(Asked(q, kind, features, labels))
    return asked


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 3000, rate: float = 0.5) -> tuple[np.ndarray, float]:
    """Logistic regression by full-batch gradient descent on standardized features."""
    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / scale
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= rate * (z.T @ (p - y) / len(y) + l2 * w)
        b -= rate * float(np.mean(p - y))
    weights = w / scale
    return weights, b - float(weights @ mean)


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not len(positive) or not len(negative):
        return float("nan")
    scores = np.concatenate([positive, negative])
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable").astype(float) + 1
    for value in np.unique(scores):  # average ranks of ties
        same = scores == value
        ranks[same] = ranks[same].mean()
    return (ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative))


def top_confidence(asked: list[Asked], mode: str, weights: np.ndarray, bias: float) -> np.ndarray:
    z = np.array([a.features[mode][0] @ weights + bias for a in asked])
    return 1 / (1 + np.exp(-z))


def report(asked: list[Asked], mode: str, weights: np.ndarray, bias: float, threshold: float, label: str) -> None:
    held = [a for a in asked if a.question.part == 1]
    scores = top_confidence(held, mode, weights, bias)
    groups = {"all": lambda a: True, "zh": lambda a: a.question.language == "zh", "en": lambda a: a.question.language == "en"}
    for group, keep in groups.items():
        def pick(kind: str) -> np.ndarray:
            return np.array([s for a, s in zip(held, scores) if a.kind == kind and keep(a)])

        answerable, in_domain, off_topic = pick("answerable"), pick("in-domain"), pick("off-topic")
        if not len(answerable):
            continue
        print(
            f"| {label} | {mode} | {group} | {len(answerable)}/{len(in_domain)}/{len(off_topic)} "
            f"| {auroc(answerable, off_topic):.4f} | {auroc(answerable, in_domain):.4f} | {threshold:.3f} "
            f"| {np.mean(answerable < threshold):.4f} | {np.mean(off_topic < threshold) if len(off_topic) else float('nan'):.4f} "
            f"| {np.mean(in_domain < threshold) if len(in_domain) else float('nan'):.4f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cmrc", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--xquad", type=Path, default=XQUAD_DATA)
    parser.add_argument("--cmrc-index", type=Path, default=Path("/tmp/qa-bench-cmrc2018/index"), help="full CMRC2018 index whose embeddings to reuse")
    parser.add_argument("--xquad-index", type=Path, default=Path("/tmp/qa-bench-xquad/index"), help="full XQuAD index whose embeddings to reuse")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-confidence"))
    parser.add_argument("--cmrc-share", type=int, default=3, help="ask one in N CMRC2018 questions (hashed), to save time")
    parser.add_argument("--modes", default=",".join(MODES), help="fit these modes only, to save time")
    args = parser.parse_args()
    modes = tuple(args.modes.split(","))

    data, questions = collections(args.cmrc, args.xquad, args.cmrc_share)
    full = {"cmrc": args.cmrc_index, "xquad": args.xquad_index}
    indexes = {(name, half): half_index(args.work_dir, name, half, *data[name], full[name]) for name in data for half in (0, 1)}
    asked = ask_all(indexes, questions, modes)
    kinds = {k: sum(a.kind == k for a in asked) for k in ("answerable", "in-domain", "off-topic")}
    print(f"{len(questions)} questions asked of 4 half indexes: {kinds}; fit part {sum(a.question.part == 0 for a in asked)}, report part {sum(a.question.part == 1 for a in asked)}\n")

    print("held-out part; counts answerable/in-domain/off-topic; 'declared unanswerable' = top confidence below the threshold\n")
    print("| weights | mode | questions | n | AUROC off-topic | AUROC in-domain | threshold | answerable declared unanswerable | off-topic declared unanswerable | in-domain declared unanswerable |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    fitted = {}
    for mode in modes:
        used = np.array([f not in UNUSED[mode] for f in confidence.FEATURES])
        fitting = [a for a in asked if a.question.part == 0]
        x = np.concatenate([a.features[mode] for a in fitting])[:, used]
        y = np.concatenate([a.labels[mode] for a in fitting])
        w, b = fit(x, y)
        weights = np.zeros(len(confidence.FEATURES))
        weights[used] = w
        answerable = top_confidence([a for a in fitting if a.kind == "answerable"], mode, weights, b)
        threshold = float(np.quantile(answerable, ANSWERABLE_MISSED))
        fitted[mode] = (weights, b, threshold)
        report(asked, mode, weights, b, threshold, "fitted on the fit part")
        report(asked, mode, confidence.WEIGHTS[mode], confidence.BIAS[mode], confidence.THRESHOLD[mode], "qa/answer/confidence.py")

    print("\nconstants for qa/answer/confidence.py (fitted on the fit part):")
    print("WEIGHTS = {")
    for mode, (weights, _, _) in fitted.items():
        print(f'    "{mode}": np.array([{", ".join(f"{v:.4g}" for v in weights)}]),')
    print("}")
    print("BIAS = {" + ", ".join(f'"{mode}": {b:.4g}' for mode, (_, b, _) in fitted.items()) + "}")
    print("THRESHOLD = {" + ", ".join(f'"{mode}": {t:.3f}' for mode, (_, _, t) in fitted.items()) + "}")


if __name__ == "__main__":
    main()
