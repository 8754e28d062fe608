"""The guard: every figure that matters, measured now and set beside benchmarks/baseline.json.

    python benchmarks/guard.py                      # all parts (~20 min on 2 cores)
    python benchmarks/guard.py --parts seed,speed   # some of them
    python benchmarks/guard.py --update-baseline    # … and write what it measured as the baseline
    python benchmarks/guard.py --save before.json   # then, after a change:
    python benchmarks/guard.py --baseline before.json   # before and after, on one machine

Parts: cmrc (CMRC2018 hybrid R@1 and top-hit answer hit, every third question: 1,073),
xquad (English and Chinese questions), seed (tests/golden/seed.yaml on corpus/), realdocs
(../shared/bench/realdocs), confidence (AUROC and error rates of the hybrid confidence model
on half indexes, as benchmarks/confidence.py measures them, on a fixed share of its questions)
and speed (cold `qa ask`: wall median of 7 and peak memory; warm hybrid search p50 on one core,
with and without the question's embedding, on corpus/ and CMRC2018; indexing chars/s).

Prints one table: figure, baseline, now, change. A quality figure that falls by more than
0.5 points, and a time or memory that grows by more than 20 %, is flagged `!!`; the exit code
is 1 when anything is flagged. Work folders are kept under --work-dir, so a second run reuses
the embeddings it already made; an index there is reused while the documents and
PIPELINE_VERSION are the same, so measure code that changes passages without bumping it in a
fresh --work-dir (the seed part always rebuilds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import zlib
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DEFAULT_BENCH_DIR = ROOT.parent / "shared" / "bench"
BENCH_DIR = DEFAULT_BENCH_DIR  # --bench-dir
BASELINE_PATH = ROOT / "benchmarks" / "baseline.json"
PARTS = ("cmrc", "xquad", "seed", "realdocs", "confidence", "speed")
QUALITY_SLACK = 0.005  # half a point
COST_SLACK = 0.20  # a fifth
# Figures where less is better; every other is a quality figure where more is better.
COSTS = {"cold_ask_s", "cold_ask_peak_mib", "warm_p50_ms", "warm_p50_noembed_ms", "cmrc_warm_p50_ms", "cmrc_warm_p50_noembed_ms"}
LOWER_IS_BETTER = {"confidence.answerable_declared_unanswerable"}
COLD_QUESTION = "互联网普及率达到了多少？"


def top_hit_answer_rate(results, queries) -> float:
    """The share of questions whose top hit's highlight holds one of their answers."""
    from qa.evaluation import contains_any

    return sum(bool(r.hits and r.hits[0]["answer"] and contains_any(r.hits[0]["answer"], q.answer)) for r, q in zip(results, queries)) / len(queries)


def part_cmrc(work_dir: Path) -> dict[str, float]:
    from cmrc2018 import load_cmrc

    from qa import build_index, load_index
    from qa.evaluation import evaluate

    paragraphs, queries = load_cmrc(BENCH_DIR / "cmrc2018_dev.json", None)
    queries = queries[::3]
    corpus_dir = _write_corpus(paragraphs, work_dir / "cmrc" / "corpus")
    build_index(corpus_dir, work_dir / "cmrc" / "index")
    result = evaluate(load_index(work_dir / "cmrc" / "index"), queries)
    return {"cmrc.R@1": result.metrics["recall@1"], "cmrc.answer_hit": top_hit_answer_rate(result.results, queries)}


def part_xquad(work_dir: Path) -> dict[str, float]:
    from crosslingual import load_xquad

    from qa import build_index, load_index
    from qa.evaluation import evaluate

    paragraphs, queries, _ = load_xquad(BENCH_DIR / "xquad_zh_en_dev.json")
    corpus_dir = _write_corpus(paragraphs, work_dir / "xquad" / "corpus")
    build_index(corpus_dir, work_dir / "xquad" / "index")
    index = load_index(work_dir / "xquad" / "index")
    out = {}
    for language in ("en", "zh"):
        result = evaluate(index, queries[language])
        out[f"xquad_{language}.R@1"] = result.metrics["recall@1"]
        out[f"xquad_{language}.answer_hit"] = top_hit_answer_rate(result.results, queries[language])
    return out


def part_seed(work_dir: Path) -> dict[str, float]:
    from qa import build_index, load_index
    from qa.evaluation import evaluate, load_golden

    queries = load_golden(ROOT / "tests" / "golden" / "seed.yaml")
    # Rebuilt every time (seconds): an index kept from other code with the same PIPELINE_VERSION
    # would be "up to date" and measure that code's passages.
    build_index(ROOT / "corpus", work_dir / "seed" / "index", rebuild=True, replace=True)
    result = evaluate(load_index(work_dir / "seed" / "index"), queries)
    judged = [(r, q) for r, q in zip(result.results, queries) if q.answer]
    return {
        "seed.R@1": result.metrics["recall@1"],
        "seed.R@5": result.metrics["recall@5"],
        "seed.answer_hit": top_hit_answer_rate([r for r, _ in judged], [q for _, q in judged]),
        "seed.passed": result.metrics["passed"],
    }


def part_realdocs(work_dir: Path) -> dict[str, float]:
    from realdocs import run

    overall, _, _ = run(BENCH_DIR / "realdocs", work_dir / "realdocs")
    return {f"realdocs.{name}": value for name, value in overall.items()}


def part_confidence(work_dir: Path) -> dict[str, float]:
    import numpy as np
    from confidence import ask_all, auroc, collections, half_index, top_confidence

    from qa.answer import confidence

    data, questions = collections(BENCH_DIR / "cmrc2018_dev.json", BENCH_DIR / "xquad_zh_en_dev.json", cmrc_share=6)
    # Half of XQuAD's questions (by a hash of their text) keep the run within the guard's time.
    questions = [q for q in questions if q.collection == "cmrc" or zlib.crc32(q.text.encode()) % 2 == 0]
    full = {"cmrc": work_dir / "cmrc" / "index", "xquad": work_dir / "xquad" / "index"}
    indexes = {(name, half): half_index(work_dir / "confidence", name, half, *data[name], full[name]) for name in data for half in (0, 1)}
    asked = [a for a in ask_all(indexes, questions, ("hybrid",)) if a.question.part == 1]
    scores = top_confidence(asked, "hybrid", confidence.WEIGHTS["hybrid"], confidence.BIAS["hybrid"])
    kinds = {kind: np.array([s for a, s in zip(asked, scores) if a.kind == kind]) for kind in ("answerable", "in-domain", "off-topic")}
    threshold = confidence.THRESHOLD["hybrid"]
    return {
        "confidence.auroc_off_topic": auroc(kinds["answerable"], kinds["off-topic"]),
        "confidence.auroc_in_domain": auroc(kinds["answerable"], kinds["in-domain"]),
        "confidence.answerable_declared_unanswerable": float(np.mean(kinds["answerable"] < threshold)),
        "confidence.off_topic_declared_unanswerable": float(np.mean(kinds["off-topic"] < threshold)),
    }


WARM = """
import json, os, statistics, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from qa import SearchRequest, load_index
index = load_index(sys.argv[1])
questions = json.loads(sys.argv[2])
index.search(questions[0], top_k=5)
total, embed = [], []
for question in questions:
    started = time.perf_counter()
    timings = index.ask(SearchRequest(question, top_k=5)).timings
    total.append(time.perf_counter() - started)
    embed.append(timings.get("embed_query", 0.0))
print(json.dumps([statistics.median(total), statistics.median([t - e for t, e in zip(total, embed)])]))
"""


def part_speed(work_dir: Path) -> dict[str, float]:
    from cmrc2018 import load_cmrc

    from qa import build_index
    from qa.evaluation import load_golden

    out = {}
    # Indexing: the bundled corpus from nothing (the int8 model already built and cached).
    index_dir = work_dir / "speed" / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    report = build_index(ROOT / "corpus", index_dir)
    chars = sum(len(p.read_text(encoding="utf-8")) for p in (ROOT / "corpus").glob("*.txt"))
    out["index_chars_per_s"] = chars / report.seconds
    walls, peaks = cold_asks(index_dir, runs=7)
    out["cold_ask_s"] = statistics.median(walls)
    out["cold_ask_peak_mib"] = statistics.median(peaks)
    one_core = {**os.environ, "OMP_NUM_THREADS": "1"}
    seed_questions = [q.question for q in load_golden(ROOT / "tests" / "golden" / "seed.yaml")]
    total, without = _warm(index_dir, seed_questions, one_core)
    out["warm_p50_ms"], out["warm_p50_noembed_ms"] = total, without
    _, queries = load_cmrc(BENCH_DIR / "cmrc2018_dev.json", None)
    cmrc_index = work_dir / "cmrc" / "index"
    if cmrc_index.exists():  # built by the cmrc part
        total, without = _warm(cmrc_index, [q.question for q in queries[::16]], one_core)
        out["cmrc_warm_p50_ms"], out["cmrc_warm_p50_noembed_ms"] = total, without
    return out


# Started from a small launcher: a child of this large process would be charged this
# process's memory as its own peak (fork copies the pages, vfork shares them until exec).
LAUNCH = """
import os, sys, time
quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
started = time.perf_counter()
pid = os.posix_spawn(sys.executable, [sys.executable, *sys.argv[1:]], os.environ, file_actions=quiet)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, status)
"""


def cold_asks(index_dir: Path, runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds and peak memory (MiB) of `qa ask` in a new process, `runs` times after a warm-up."""
    argv = ["-m", "qa", "ask", COLD_QUESTION, "--index-dir", str(index_dir)]
    walls, peaks = [], []
    for run in range(runs + 1):  # the first warms the OS file cache
        out = subprocess.run([sys.executable, "-c", LAUNCH, *argv], check=True, capture_output=True, text=True, cwd=ROOT)
        wall, peak_kib, status = out.stdout.split()
        if int(status) != 0:
            raise SystemExit(f"error: qa {' '.join(argv[2:])} failed")
        if run:
            walls.append(float(wall))
            peaks.append(int(peak_kib) / 1024)  # ru_maxrss is KiB on Linux
    return walls, peaks


def _warm(index_dir: Path, questions: list[str], env: dict) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", WARM, str(index_dir), json.dumps(questions)], check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    total, without = json.loads(out.stdout.strip().splitlines()[-1])
    return total * 1e3, without * 1e3


def _write_corpus(paragraphs: dict[str, str], corpus_dir: Path) -> Path:
    from crosslingual import write_corpus

    write_corpus(paragraphs, corpus_dir)
    return corpus_dir


def flagged(name: str, baseline: float, now: float) -> bool:
    if name in COSTS:
        return now > baseline * (1 + COST_SLACK)
    if name == "index_chars_per_s":
        return now < baseline / (1 + COST_SLACK)
    if name in LOWER_IS_BETTER:
        return now > baseline + QUALITY_SLACK
    return now < baseline - QUALITY_SLACK


def table(baseline: dict[str, float], now: dict[str, float]) -> tuple[str, int]:
    lines = ["| figure | baseline | now | change | |", "|---|---|---|---|---|"]
    flags = 0
    for name, value in now.items():
        before = baseline.get(name)
        if before is None:
            lines.append(f"| {name} | – | {value:.4g} | | new |")
            continue
        bad = flagged(name, before, value)
        flags += bad
        change = f"{(value / before - 1) * 100:+.1f} %" if name in COSTS or name == "index_chars_per_s" else f"{(value - before) * 100:+.2f} pt"
        lines.append(f"| {name} | {before:.4g} | {value:.4g} | {change} | {'!!' if bad else ''} |")
    return "\n".join(lines), flags


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return f"{model}, {len(os.sched_getaffinity(0))} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def commit() -> str:
    found = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)}")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-guard"))
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH_DIR, help="the benchmark data (CMRC2018, XQuAD, realdocs)")
    parser.add_argument("--baseline", type=Path, default=BASELINE_PATH)
    parser.add_argument("--update-baseline", action="store_true", help="write the figures measured as the baseline (others kept)")
    parser.add_argument("--save", type=Path, help="also write the figures measured to this JSON file")
    args = parser.parse_args()
    global BENCH_DIR
    BENCH_DIR = args.bench_dir
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        sys.exit(f"error: unknown part(s) {', '.join(sorted(unknown))}: use {', '.join(PARTS)}")
    if not BENCH_DIR.exists():
        sys.exit(f"error: benchmark data not found: {BENCH_DIR}")
    if "speed" in parts and "cmrc" not in parts and not (args.work_dir / "cmrc" / "index").exists():
        parts.insert(0, "cmrc")  # speed times warm search on its index
    now: dict[str, float] = {}
    for part in parts:
        started = time.perf_counter()
        now.update(globals()[f"part_{part}"](args.work_dir))
        print(f"[{part}: {time.perf_counter() - started:.0f} s]", file=sys.stderr, flush=True)
    saved = json.loads(args.baseline.read_text(encoding="utf-8")) if args.baseline.exists() else {"figures": {}}
    text, flags = table(saved["figures"], now)
    print(f"baseline: {saved.get('commit', 'none')} on {saved.get('machine', '?')}, {saved.get('date', '?')}")
    print(f"now: {commit()} on {machine()}\n")
    print(text)
    if args.save:  # as a baseline file is written, so that a later run can be set beside it (--baseline)
        measured = {"commit": commit(), "machine": machine(), "date": date.today().isoformat(), "figures": now}
        args.save.write_text(json.dumps(measured, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.update_baseline:
        saved["figures"].update(now)
        saved.update(commit=commit(), machine=machine(), date=date.today().isoformat())
        args.baseline.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nbaseline written: {args.baseline}")
    sys.exit(1 if flags and not args.update_baseline else 0)


if __name__ == "__main__":
    main()
