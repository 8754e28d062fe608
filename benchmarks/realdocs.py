"""Real documents: index ../shared/bench/realdocs/docs and ask its hand-written questions.

Scoring follows that folder's README: text is compared after NFKC, with all whitespace
removed and traditional characters made simplified, on both sides.
- hit@1 / hit@5: a hit among the first 1 / 5 is from the expected file and holds an answer
  (a near-duplicate folded into the hit counts when it is from that file and holds one);
- page@1: hit@1 on the expected PDF page; answer@1: hit@1 and the highlight holds an answer;
- notfound: an unanswerable question that qa declares unanswered; answered: the share of
  answerable questions qa declares answered.

    python benchmarks/realdocs.py [--data ../shared/bench/realdocs] [--work-dir DIR] [--rebuild] [--misses]

Prints the figures overall, by file, by kind and by question language, and the indexing time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import build_index, load_index  # noqa: E402
from qa.answer.confidence import is_answered  # noqa: E402
from qa.ingest.normalize import to_simplified  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "realdocs"
TOP_K = 5
FIGURES = ("hit@1", "hit@5", "page@1", "answer@1", "answered", "notfound")


def comparable(text: str) -> str:
    return to_simplified("".join(unicodedata.normalize("NFKC", text).split()))


def holds(text: str | None, answers: list[str]) -> bool:
    form = comparable(text or "")
    return any(comparable(answer) in form for answer in answers)


def load_questions(data_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (data_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def index_docs(data_dir: Path, work_dir: Path, rebuild: bool = False):
    """The realdocs index, built in work_dir from a copy of the documents; (index, build report)."""
    corpus_dir = work_dir / "docs"
    if rebuild and work_dir.exists():
        shutil.rmtree(work_dir)
    if not corpus_dir.exists():
        shutil.copytree(data_dir / "docs", corpus_dir)
    report = build_index(corpus_dir, work_dir / "index")
    return load_index(work_dir / "index"), report


def score_question(index, question: dict) -> dict:
    """One question's figures: 1.0 / 0.0 for those that apply to it, absent for the others."""
    hits = index.search(question["question"], top_k=TOP_K)
    if question["file"] is None:
        return {"notfound": float(not is_answered(hits))}
    answers = question["answer"]

    def right(hit) -> bool:
        if hit.passage.doc_path == question["file"] and holds(hit.passage.text, answers):
            return True
        return any(s.doc_path == question["file"] and holds(index.document_text(s.doc_path)[s.char_start : s.char_end], answers) for s in hit.also_in)

    top = bool(hits) and right(hits[0])
    out = {
        "hit@1": float(top),
        "hit@5": float(any(right(h) for h in hits[:TOP_K])),
        "answer@1": float(top and holds(hits[0].answer.text if hits[0].answer else "", answers)),
        "answered": float(is_answered(hits)),
    }
    if question.get("page") is not None:
        out["page@1"] = float(top and hits[0].passage.page == question["page"])
    if hits:  # for --misses
        first = hits[0].passage
        out["top"] = f"{first.doc_path} p{first.page} ¶{first.paragraph}: {' '.join(first.text.split())[:70]}"
    return out


def summarize(rows: list[dict]) -> dict[str, float]:
    """Each figure's mean over the questions it applies to."""
    sums, counts = defaultdict(float), defaultdict(int)
    for row in rows:
        for name, value in row.items():
            if name not in FIGURES:
                continue
            sums[name] += value
            counts[name] += 1
    return {name: sums[name] / counts[name] for name in FIGURES if counts[name]}


def run(data_dir: Path, work_dir: Path, rebuild: bool = False) -> tuple[dict[str, float], list[tuple[dict, dict]], object]:
    """(overall figures, (question, its figures) for each question, build report)."""
    index, report = index_docs(data_dir, work_dir, rebuild)
    scored = [(q, score_question(index, q)) for q in load_questions(data_dir)]
    return summarize([s for _, s in scored]), scored, report


def print_groups(title: str, scored: list[tuple[dict, dict]], key) -> None:
    groups: dict[str, list[dict]] = defaultdict(list)
    for question, figures in scored:
        groups[key(question)].append(figures)
    print(f"\n== by {title}")
    print(f"{'':28} {'n':>3} " + " ".join(f"{name:>9}" for name in FIGURES))
    for name, rows in groups.items():
        summary = summarize(rows)
        print(f"{name:28} {len(rows):>3} " + " ".join(f"{summary[f]:>9.3f}" if f in summary else f"{'-':>9}" for f in FIGURES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-realdocs"))
    parser.add_argument("--rebuild", action="store_true", help="index from scratch (to time the build)")
    parser.add_argument("--misses", action="store_true", help="list the answerable questions whose top hit is wrong, with that hit")
    args = parser.parse_args()
    if not (args.data / "questions.jsonl").exists():
        sys.exit(f"error: benchmark data not found: {args.data}")
    started = time.perf_counter()
    overall, scored, report = run(args.data, args.work_dir, args.rebuild)
    print(f"index: {report.files} files, {report.passages} passages, {len(report.skipped)} left out; {report.seconds:.1f} s"
          f"; {len(scored)} questions in {time.perf_counter() - started - report.seconds:.1f} s")
    for skipped in report.skipped:
        print(f"  left out: {skipped}")
    print("SUMMARY " + " ".join(f"{name}={value:.3f}" for name, value in overall.items()) + f" n={len(scored)}")
    print_groups("file", scored, lambda q: q["file"] or "(unanswerable)")
    print_groups("kind", scored, lambda q: q["kind"])
    print_groups("question language", scored, lambda q: q["lang"])
    if args.misses:
        print("\n== top hit wrong")
        for question, figures in scored:
            if figures.get("hit@1") == 0.0:
                print(f"{question['id']:10} {question['question'][:60]}\n{'':10} want {question['file']} p{question.get('page')} {question['answer'][:2]}\n{'':10} got  {figures.get('top', '(no hit)')}")


if __name__ == "__main__":
    main()
