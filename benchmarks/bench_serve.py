"""Load on newstag-serve over loopback: ``python -m benchmarks.bench_serve --model DIR [--shared PATH]``.

Example:
    python -m benchmarks.bench_serve --model runs/demo/model                    # BBC News articles
    python -m benchmarks.bench_serve --model runs/demo/model --requests 32 --no-record

Starts ``python -m inference.serve MODEL --host 127.0.0.1 --port P`` in a subprocess (its defaults: batches of
up to 32 articles, 10 ms wait), waits for ``GET /health``, then for each level of concurrency (1, 8 and 32
clients) sends the same ``--requests`` single-article ``POST /tag`` requests (evidence on, as by default), each
client one request at a time, and measures throughput (articles/s over the level's wall time) and the p50/p99
latency of a request. Every request goes to 127.0.0.1 only, the count is bounded, and the server is stopped at
the end. Beside it, in the same run and with the same torch threads: ``Tagger.pipe`` over the same articles
(batch 32) in this process, before the server starts, so the two never share the CPU. The client runs on the
same machine (asyncio, one thread): its cost is in the server figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

from .results import REPO, benchmark_parser, finish, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_serve"
LEVELS = (1, 8, 32)
HOST = "127.0.0.1"  # loopback only


def parse_args(argv=None) -> argparse.Namespace:
    p = benchmark_parser("bench_serve", __doc__)
    p.add_argument("--model", required=True, help="model folder written by newstag-train")
    p.add_argument("--articles", help="JSONL of title and text (default: the BBC News CSV in the shared corpora)")
    p.add_argument("--requests", type=int, default=96, help="requests per concurrency level, one article each")
    p.add_argument("--threads", type=int, default=2, help="torch threads of the server and of Tagger.pipe")
    p.add_argument("--timeout", type=float, default=300, help="seconds a request may take before the run fails")
    return p.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


async def load(url: str, bodies: list[dict], clients: int, timeout: float) -> tuple[float, list[float]]:
    """Send every body once from ``clients`` concurrent clients; (wall seconds, per-request latencies)."""
    import httpx

    queue: asyncio.Queue = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    latencies: list[float] = []

    async def client(http):
        while True:
            try:
                body = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            r = await http.post(f"{url}/tag", json=body)
            r.raise_for_status()
            latencies.append(time.perf_counter() - t0)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - t0, latencies


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench_serve: the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("bench_serve: the server did not answer /health in time")


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.articles and skip_if_missing([shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"]):
        return 0
    import torch

    from inference import Tagger

    from .bench_tag import read_articles

    args.n = args.requests
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    arts, _, source = read_articles(args)
    torch.set_num_threads(args.threads)
    tagger = Tagger.from_pretrained(args.model, device="cpu")
    list(tagger.pipe(arts[:8]))  # warm-up

    def pipe_rate() -> float:
        t0 = time.perf_counter()
        list(tagger.pipe(arts, batch_size=32))
        return len(arts) / (time.perf_counter() - t0)

    before = pipe_rate()
    print(f"Tagger.pipe: {before:.2f} articles/s", flush=True)

    port = free_port()
    url = f"http://{HOST}:{port}"
    server_log = tempfile.TemporaryFile("w+")  # read back only when the server fails
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    proc = subprocess.Popen([sys.executable, "-m", "inference.serve", args.model, "--host", HOST, "--port", str(port),
                             "--device", "cpu", "--threads", str(args.threads)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=server_log)
    metrics: dict = {"model": args.model, "articles per level": len(arts), "source": source, "threads": args.threads,
                     "Tagger.pipe articles/s (batch 32), before the server": round(before, 2)}
    try:
        try:
            wait_healthy(url, proc)
        except SystemExit:
            server_log.seek(0)
            print(server_log.read()[-3000:], file=sys.stderr)
            raise
        bodies = [{"title": t, "text": x} for t, x in arts]
        asyncio.run(load(url, bodies[:4], 1, args.timeout))  # warm-up
        for clients in LEVELS:
            wall, lat = asyncio.run(load(url, bodies, clients, args.timeout))
            rate = len(bodies) / wall
            p50, p99 = (float(np.percentile(lat, q)) for q in (50, 99))
            print(f"{clients:>2} clients: {rate:.2f} articles/s, p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
                  flush=True)
            metrics[f"{clients} clients articles/s"] = round(rate, 2)
            metrics[f"{clients} clients p50 latency ms"] = round(1000 * p50, 1)
            metrics[f"{clients} clients p99 latency ms"] = round(1000 * p99, 1)
            metrics[f"{clients} clients / Tagger.pipe throughput"] = round(rate / before, 3)
        import httpx

        metrics["server batches (all levels and warm-up)"] = httpx.get(f"{url}/health", timeout=5).json()["batches"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    after = pipe_rate()  # the same pass once the server is gone: how much the machine's load moved meanwhile
    metrics["Tagger.pipe articles/s, after the server"] = round(after, 2)
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics["benchmark wall s"] = round(time.perf_counter() - started, 1)
    return finish(NAME, metrics, args.no_record)


if __name__ == "__main__":
    sys.exit(main())
