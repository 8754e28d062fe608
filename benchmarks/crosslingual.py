"""Questions in English (and Chinese) over a Chinese collection: XQuAD zh/en.

Indexes the 120 Chinese paragraphs of ../shared/bench/xquad_zh_en_dev.json and asks
each question twice, in English (`question_en`) and in Chinese (`question_zh`).
Prints, per language and mode: Recall@1/5 and MRR@10 of the gold paragraph, and
the share of questions whose top hit's answer sentence holds a gold answer span
(and the same for the highest-ranked hit from the gold paragraph).

    python benchmarks/crosslingual.py [--data ../shared/bench/xquad_zh_en_dev.json]

The index is kept in --work-dir, so a second run reuses its embeddings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import build_index, load_index  # noqa: E402
from qa.evaluation import GoldenQuery, contains_any, evaluate  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "xquad_zh_en_dev.json"


def load_xquad(path: Path) -> tuple[dict[str, str], dict[str, list[GoldenQuery]], dict[str, str]]:
    """Paragraphs by id ("AA_P": article, paragraph), queries by language, and each paragraph's article."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    paragraphs, queries, articles = {}, {"en": [], "zh": []}, {}
    for a, article in enumerate(data):
        for n, paragraph in enumerate(article["paragraphs"]):
            pid = f"{a:02d}_{n}"
            paragraphs[pid] = paragraph["context"]
            articles[pid] = article.get("title", str(a))
            for qa in paragraph["qas"]:
                answers = tuple(dict.fromkeys(x["text"] for x in qa["answers"] if x["text"].strip()))
                for language in ("en", "zh"):
                    queries[language].append(GoldenQuery(id=f"{qa['id']}-{language}", question=qa[f"question_{language}"], docs=(f"{pid}.txt",), answer=answers, top_k=10))
    return paragraphs, queries, articles


def write_corpus(paragraphs: dict[str, str], corpus_dir: Path) -> None:
    """One file per paragraph; unchanged files are left alone (the index then reuses them)."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in corpus_dir.glob("*.txt")) - {f"{pid}.txt" for pid in paragraphs}:
        (corpus_dir / stale).unlink()
    for pid, text in paragraphs.items():
        path = corpus_dir / f"{pid}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def top_hit_answer_rate(result, queries) -> float:
    """Share of questions whose top hit's answer holds a gold span, right paragraph or not."""
    return sum(bool(r.hits and r.hits[0]["answer"] and contains_any(r.hits[0]["answer"], q.answer)) for r, q in zip(result.results, queries)) / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-xquad"))
    parser.add_argument("--modes", default="dense,lexical,hybrid")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: benchmark data not found: {args.data}")
    paragraphs, queries, _ = load_xquad(args.data)
    write_corpus(paragraphs, args.work_dir / "corpus")
    report = build_index(args.work_dir / "corpus", args.work_dir / "index")
    print(f"index: {report.files} paragraphs, {report.passages} passages; {report.embedded} embedded, {report.reused} reused; {report.seconds:.1f} s")
    index = load_index(args.work_dir / "index")
    print("| questions | mode | R@1 | R@5 | MRR@10 | answer hit (top hit) | answer hit at gold rank |\n|---|---|---|---|---|---|---|")
    for language in ("en", "zh"):
        for mode in args.modes.split(","):
            result = evaluate(index, queries[language], mode=mode)
            m = result.metrics
            print(
                f"| {language} ({len(queries[language])}) | {mode} | {m['recall@1']:.4f} | {m['recall@5']:.4f} | {m['mrr@10']:.4f} "
                f"| {top_hit_answer_rate(result, queries[language]):.4f} | {m['answer_hit']:.4f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
