"""newstag-tag on one process against Ray: ``python -m benchmarks.bench_ray --model DIR [--shared PATH] [--n 240]``.

Example:
    python -m benchmarks.bench_ray --model runs/demo/model                 # after make demo; BBC News articles
    python -m benchmarks.bench_ray --model runs/demo/model --n 48 --no-record

Writes the first N BBC News articles to a temporary JSONL file and runs the real command on it in subprocesses,
one run after the other:

    python -m inference.tag IN.jsonl --model MODEL -o OUT.jsonl --device cpu                  (local: torch's 2 threads)
    OMP_NUM_THREADS=1 python -m inference.tag ...                                             (local, 1 thread)
    python -m inference.tag ... --engine ray --workers 1 / --workers 2                        (a local Ray instance)

Each Ray actor runs torch on one thread, so "local, 1 thread" is the like-for-like row for Ray's overhead.

Each engine runs ``--repeats`` times, interleaved, and its best figures count: wall time of the whole command,
time to the first written result (start-up: the model load, and for Ray the instance, its actors and the first
chunk), CPU seconds of the process tree (the driver and every Ray process it started; less sensitive than wall
time to other work on a shared machine), peak memory of the tree (PSS: shared pages counted once) and whether
the output equals the local engine's byte for byte. Ray's overhead is stated over "local, 1 thread".
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

from .results import REPO, benchmark_parser, finish, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_ray"
MIB = 2**20


def parse_args(argv=None) -> argparse.Namespace:
    p = benchmark_parser("bench_ray", __doc__)
    p.add_argument("--model", required=True, help="model folder written by newstag-train")
    p.add_argument("--n", type=int, default=240, help="BBC News articles to tag (default 240)")
    p.add_argument("--repeats", type=int, default=2, help="interleaved runs of each engine; the best counts")
    p.add_argument("--chunk", type=int, default=32, help="newstag-tag --chunk of every run (default 32)")
    return p.parse_args(argv)


def sample_tree(proc, cpu: dict[int, float]) -> int:
    """PSS of a process tree (shared pages split between the processes that map them); updates each process's
    CPU seconds (user + system) in ``cpu``, by pid, so a process that has exited keeps its last figure."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            info = p.memory_full_info()
            total += getattr(info, "pss", info.rss)
            times = p.cpu_times()
            cpu[p.pid] = times.user + times.system
        except Exception:  # noqa: BLE001 - a child that just exited
            pass
    return total


def run(cmd: list[str], out: Path, env: dict | None = None) -> dict:
    """Run a tagging command: wall time, time to the first result line, peak memory and CPU seconds of its tree."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    ps, first, peak, cpu = psutil.Process(proc.pid), None, 0, {}
    while proc.poll() is None:
        peak = max(peak, sample_tree(ps, cpu))
        if first is None and out.is_file() and out.stat().st_size:
            first = time.perf_counter() - t0
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    log = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"bench_ray: {' '.join(cmd[2:])} failed (exit {proc.returncode}):\n{log[-3000:]}")
    return {"wall": wall, "first": first if first is not None else wall, "peak": peak, "cpu": sum(cpu.values())}


def main(argv=None) -> int:
    args = parse_args(argv)
    bbc = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if skip_if_missing([bbc]):
        return 0
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    csv.field_size_limit(2**31 - 1)
    one_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    runs = {"local": ([], None), "local, 1 thread": ([], one_thread),
            "ray, 1 worker": (["--engine", "ray", "--workers", "1"], None),
            "ray, 2 workers": (["--engine", "ray", "--workers", "2"], None)}
    figures: dict = {name: [] for name in runs}
    outputs = {}
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        feed = Path(tmp) / "articles.jsonl"
        with bbc.open(encoding="utf-8", newline="") as f, feed.open("w", encoding="utf-8") as w:
            for i, row in enumerate(islice(csv.DictReader(f), args.n)):
                w.write(json.dumps({"id": f"bbc-{i}", "title": row["title"], "text": row["text"]}) + "\n")
        base = [sys.executable, "-m", "inference.tag", str(feed), "--model", args.model, "--device", "cpu",
                "--chunk", str(args.chunk)]
        for rep in range(args.repeats):  # interleaved: a change in the machine's load hits every engine alike
            for name, (extra, env) in runs.items():
                out = Path(tmp) / f"{name.replace(', ', '-').replace(' ', '')}-{rep}.jsonl"
                f = run([*base, "-o", str(out), *extra], out, env)
                figures[name].append(f)
                outputs[name] = out.read_bytes()
                print(f"pass {rep + 1}: {name}: {f['wall']:.1f} s, first result after {f['first']:.1f} s, "
                      f"{f['cpu']:.0f} CPU s, peak {f['peak'] / MIB:.0f} MiB", flush=True)
    n = args.n
    metrics: dict = {"model": args.model, "articles": n, "source": str(bbc), "chunk": args.chunk,
                     "repeats (best counts)": args.repeats}
    best = {name: {k: min(f[k] for f in runs_) for k in ("wall", "first", "cpu", "peak")}
            for name, runs_ in figures.items()}
    for name, b in best.items():
        metrics[f"{name} wall s"] = round(b["wall"], 1)
        metrics[f"{name} articles/s (whole command)"] = round(n / b["wall"], 2)
        metrics[f"{name} s to the first result"] = round(b["first"], 1)
        metrics[f"{name} CPU s (process tree)"] = round(b["cpu"], 1)
        metrics[f"{name} peak memory MiB (PSS of the process tree)"] = round(max(f["peak"] for f in figures[name]) / MIB)
        if name != "local":
            metrics[f"{name} output identical to local"] = outputs[name] == outputs["local"]
        if name.startswith("ray"):  # against the local engine with the same threads per tagger (one)
            ref = best["local, 1 thread"]
            metrics[f"{name} overhead wall s (over local, 1 thread)"] = round(b["wall"] - ref["wall"], 1)
            metrics[f"{name} overhead CPU s (over local, 1 thread)"] = round(b["cpu"] - ref["cpu"], 1)
            metrics[f"{name} start-up overhead s (first result, over local, 1 thread)"] = round(b["first"] - ref["first"], 1)
            metrics[f"{name} / local articles/s (whole command)"] = round(best["local"]["wall"] / b["wall"], 3)
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics["benchmark wall s"] = round(time.perf_counter() - started, 1)
    return finish(NAME, metrics, args.no_record)


if __name__ == "__main__":
    sys.exit(main())
