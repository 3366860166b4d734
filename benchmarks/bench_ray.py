"""newstag-tag on one process against Ray: ``python -m benchmarks.bench_ray --model DIR [--shared PATH] [--n 240]``.

Example:
    python -m benchmarks.bench_ray --model runs/demo/model                 # after make demo; BBC News articles
    python -m benchmarks.bench_ray --model runs/demo/model --n 48 --no-record

Writes the first N BBC News articles to a temporary JSONL and runs the real command on it three times, one
after the other, in subprocesses:

    python -m inference.tag IN.jsonl --model MODEL -o OUT.jsonl --device cpu                  (local: torch's 2 threads)
    OMP_NUM_THREADS=1 python -m inference.tag ...                                             (local, 1 thread)
    python -m inference.tag ... --engine ray --workers 1 / --workers 2                        (a local Ray instance)

Each Ray actor runs torch on one thread, so "local, 1 thread" is the like-for-like row for Ray's overhead.

For each: wall time of the whole command, time to the first written result (start-up: model load, and for Ray
the instance, its actors and the first chunk), the rate over the last three quarters of the articles (results
written over time, sampled every 0.25 s), peak memory of the process tree (PSS: the driver and the Ray processes
it started, shared pages counted once) and whether the output equals the local engine's byte for byte. Ray's overhead is stated as the extra wall time and the extra start-up over the local engine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from .results import REPO, add_common_args, record, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_ray"
MIB = 2**20


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_ray", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--model", required=True, help="model folder written by newstag-train")
    p.add_argument("--n", type=int, default=240, help="BBC News articles to tag (default 240)")
    p.add_argument("--chunk", type=int, default=32, help="newstag-tag --chunk of every run (default 32)")
    return p.parse_args(argv)


def tree_memory(proc) -> int:
    """Proportional set size (shared pages split between the processes that map them) of a process tree."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            info = p.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except Exception:  # noqa: BLE001 - a child that just exited
            pass
    return total


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def run(cmd: list[str], out: Path, n: int, env: dict | None = None) -> dict:
    """Run a tagging command: wall time, time to the first result line, the rate of the last three quarters of
    the articles (lines written over time: start-up and the first chunks left out) and peak memory of its tree."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    ps, first, quarter, last, peak = psutil.Process(proc.pid), None, None, (0.0, 0), 0
    while proc.poll() is None:
        peak = max(peak, tree_memory(ps))
        done, now = _lines(out), time.perf_counter() - t0
        if first is None and done:
            first = now
        if quarter is None and done >= n // 4:
            quarter = (now, done)
        if done > last[1]:
            last = (now, done)  # the shut-down after the last result is no part of the rate
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    log = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"bench_ray: {' '.join(cmd[2:])} failed (exit {proc.returncode}):\n{log[-3000:]}")
    first = first if first is not None else wall
    quarter = quarter or (first, 0)
    if _lines(out) > last[1]:
        last = (wall, _lines(out))
    return {"wall": wall, "first": first, "peak": peak,
            "steady": (last[1] - quarter[1]) / max(last[0] - quarter[0], 1e-9)}


def main(argv=None) -> int:
    args = parse_args(argv)
    bbc = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if skip_if_missing([bbc]):
        return 0
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    csv.field_size_limit(2**31 - 1)
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        feed = Path(tmp) / "articles.jsonl"
        with bbc.open(encoding="utf-8", newline="") as f, feed.open("w", encoding="utf-8") as w:
            for i, row in enumerate(islice(csv.DictReader(f), args.n)):
                w.write(json.dumps({"id": f"bbc-{i}", "title": row["title"], "text": row["text"]}) + "\n")
        base = [sys.executable, "-m", "inference.tag", str(feed), "--model", args.model, "--device", "cpu",
                "--chunk", str(args.chunk)]
        one_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        runs = {"local": ([], None), "local, 1 thread": ([], one_thread),
                "ray, 1 worker": (["--engine", "ray", "--workers", "1"], None),
                "ray, 2 workers": (["--engine", "ray", "--workers", "2"], None)}
        figures, outputs = {}, {}
        for name, (extra, env) in runs.items():
            out = Path(tmp) / f"{name.replace(', ', '-').replace(' ', '')}.jsonl"
            figures[name] = run([*base, "-o", str(out), *extra], out, args.n, env)
            outputs[name] = out.read_bytes()
            f = figures[name]
            print(f"{name}: {f['wall']:.1f} s, first result after {f['first']:.1f} s, peak "
                  f"{f['peak'] / MIB:.0f} MiB", flush=True)
    n = args.n
    metrics: dict = {"model": args.model, "articles": n, "source": str(bbc), "chunk": args.chunk}
    local = figures["local"]
    for name, f in figures.items():
        metrics[f"{name} wall s"] = round(f["wall"], 1)
        metrics[f"{name} articles/s (whole command)"] = round(n / f["wall"], 2)
        metrics[f"{name} s to the first result"] = round(f["first"], 1)
        metrics[f"{name} articles/s, last 3/4 of the articles"] = round(f["steady"], 2)
        metrics[f"{name} peak memory MiB (PSS of the process tree)"] = round(f["peak"] / MIB)
        if name.startswith("ray"):  # against the local engine with the same threads per tagger (1)
            one = figures["local, 1 thread"]
            metrics[f"{name} / local 1 thread articles/s, last 3/4"] = round(f["steady"] / one["steady"], 3)
            metrics[f"{name} start-up overhead s (first result - local 1 thread's)"] = round(f["first"] - one["first"], 1)
        if name != "local":
            metrics[f"{name} output identical to local"] = outputs[name] == outputs["local"]
            metrics[f"{name} overhead s (wall - local wall)"] = round(f["wall"] - local["wall"], 1)
            metrics[f"{name} start-up overhead s (first result - local's)"] = round(f["first"] - local["first"], 1)
            metrics[f"{name} / local articles/s, last 3/4"] = round(f["steady"] / local["steady"], 3)
            metrics[f"{name} / local articles/s, whole command"] = round(local["wall"] / f["wall"], 3)
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics["benchmark wall s"] = round(time.perf_counter() - started, 1)
    width = max(len(k) for k in metrics)
    for k, v in metrics.items():
        print(f"  {k:<{width}}  {v}")
    if args.no_record:
        print("(--no-record: nothing written)")
        return 0
    record(NAME, metrics)
    print("recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
