"""Load on `qa serve` over loopback: latency, throughput, errors, memory, and a rebuild under load.

The seed corpus (corpus/) is copied to a temporary folder and indexed with the default model;
`qa serve` runs in its own process on 127.0.0.1. Clients are threads with keep-alive
connections asking the golden seed questions in turn.

    python benchmarks/serve_load.py [--requests 600] [--soak 10000] [--corpus cmrc2018]

`--corpus cmrc2018` serves CMRC2018's 848 paragraphs (../shared/bench) and asks its questions
instead (the index is kept in /tmp/qa-bench-serve-cmrc2018, so a second run reuses it).

Prints, for 1, 8 and 32 concurrent clients: p50/p95/p99 latency (a question's, from its first
try to its answer), questions answered/s, errors, and 503s (a busy server's "come back in a
second": the client waits as told and asks again); then the
server's resident memory every 1,000 requests over `--soak` requests; then a run during which
`qa index` rebuilds the index in another process (the server must swap it in with no failed
request). Run it under `flock /tmp/qa-bench.lock` so timings are not shared with other work.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NEW_DOCUMENT = "敦煌莫高窟始建于十六国的前秦时期，历经十多个朝代的兴建，是世界上现存规模最大、内容最丰富的佛教艺术地。"


def questions() -> list[str]:
    data = yaml.safe_load((ROOT / "tests" / "golden" / "seed.yaml").read_text(encoding="utf-8"))
    return [q["question"] for q in (data["queries"] if isinstance(data, dict) else data)]


def cmrc2018(corpus_dir: Path) -> list[str]:
    """CMRC2018's paragraphs written to corpus_dir; its questions, in dataset order."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cmrc2018 import load_cmrc
    from crosslingual import write_corpus

    paragraphs, queries = load_cmrc(ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json", None)
    write_corpus(paragraphs, corpus_dir)
    return [q.question for q in queries]


class Server:
    def __init__(self, index_dir: Path):
        self.process = subprocess.Popen([sys.executable, "-m", "qa", "serve", "--index-dir", str(index_dir), "--port", "0"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.process.stderr.readline()
        if not line.startswith("qa serve: "):
            raise SystemExit(f"qa serve did not start: {line}{self.process.stderr.read()}")
        self.port = int(line.split("http://127.0.0.1:")[1].split("/")[0])

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def get(self, path: str) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", path)
        return json.loads(connection.getresponse().read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


def run_load(server: Server, clients: int, requests: int, asked: list[str], every=None) -> dict:
    """`requests` POSTs to /api/ask from `clients` threads; `every(n)` is called after each 1,000th."""
    latencies: list[float] = []
    errors: list[str] = []
    shed = [0]  # 503s with Retry-After: the client waits as told and asks again
    lock = threading.Lock()
    issued = iter(range(requests))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while True:
            with lock:
                n = next(issued, None)
            if n is None:
                break
            body = json.dumps({"question": asked[n % len(asked)], "top_k": 5}).encode()
            started = time.perf_counter()
            while True:
                try:
                    connection.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
                    response = connection.getresponse()
                    payload = response.read()
                    if response.status == 503 and response.getheader("Retry-After"):
                        with lock:
                            shed[0] += 1
                        time.sleep(float(response.getheader("Retry-After")))
                        continue
                    ok = response.status == 200 and json.loads(payload)["hits"]
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    ok, payload = False, repr(exc).encode()
                    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                break
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if not ok:
                    errors.append(payload[:200].decode(errors="replace"))
                done = len(latencies)
            if every and done % 1000 == 0:
                every(done)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(int(p / 100 * len(latencies)), len(latencies) - 1)] * 1000

    return {"clients": clients, "requests": len(latencies), "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99), "rps": len(latencies) / seconds, "errors": len(errors), "shed": shed[0], "first_error": errors[0] if errors else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600, help="requests per concurrency level")
    parser.add_argument("--soak", type=int, default=10000, help="requests of the memory run (0: none)")
    parser.add_argument("--corpus", choices=("seed", "cmrc2018"), default="seed", help="what to serve: corpus/ or CMRC2018's paragraphs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus == "cmrc2018":
            work_dir = Path("/tmp/qa-bench-serve-cmrc2018")
            corpus_dir, index_dir = work_dir / "corpus", work_dir / "index"
            asked = cmrc2018(corpus_dir)
        else:
            corpus_dir, index_dir = Path(tmp) / "corpus", Path(tmp) / "index"
            shutil.copytree(ROOT / "corpus", corpus_dir)
            asked = questions()
        print(f"machine: {os.cpu_count()} cores; {len(asked)} distinct questions ({args.corpus}), top_k 5, mode hybrid")
        subprocess.run([sys.executable, "-m", "qa", "index", str(corpus_dir), "--index-dir", str(index_dir)], check=True, capture_output=True, cwd=ROOT)
        server = Server(index_dir)
        try:
            run_load(server, 4, 100, asked)  # warm-up, not reported
            print(f"\n{'clients':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} {'errors':>6} {'503s':>6}")
            for clients in (1, 8, 32):
                r = run_load(server, clients, args.requests, asked)
                print(f"{r['clients']:>7} {r['requests']:>8} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['rps']:>7.1f} {r['errors']:>6} {r['shed']:>6}" + (f"  first error: {r['first_error']}" if r["errors"] else ""))

            if args.soak:  # --soak 0 leaves the memory run out
                samples = [(0, server.rss_mib())]
                soak = run_load(server, 8, args.soak, asked, every=lambda n: samples.append((n, server.rss_mib())))
                print(f"\nmemory over {soak['requests']} requests (8 clients, {soak['rps']:.1f} req/s, {soak['errors']} errors): RSS MiB " + ", ".join(f"{n}:{rss:.0f}" for n, rss in samples))
                print(f"  growth from 1,000 requests on: {samples[-1][1] - samples[1][1]:+.1f} MiB")

            before = server.get("/api/info")["generation"]

            def rebuild() -> None:
                time.sleep(2)  # well into the run
                (corpus_dir / "dunhuang.txt").write_text(NEW_DOCUMENT, encoding="utf-8")
                subprocess.run([sys.executable, "-m", "qa", "index", str(corpus_dir), "--index-dir", str(index_dir)], check=True, capture_output=True, cwd=ROOT)

            builder = threading.Thread(target=rebuild)
            builder.start()
            swap = run_load(server, 8, max(args.requests, 1500), asked)
            builder.join()
            after = server.get("/api/info")["generation"]
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            connection.request("POST", "/api/ask", body=json.dumps({"question": "莫高窟始建于什么时期", "top_k": 1}).encode(), headers={"Content-Type": "application/json"})
            found = json.loads(connection.getresponse().read())["hits"][0]["doc_path"]
            print(f"\nrebuild during load (8 clients): {swap['requests']} requests, {swap['errors']} errors, p99 {swap['p99_ms']:.1f} ms; generation {before} -> {after}; new document found: {found == 'dunhuang.txt'}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
