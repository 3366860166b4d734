"""newstag-tag on one process against Ray: ``python -m benchmarks.bench_ray --model DIR [--shared PATH] [--n 240]``.

Example:
    python -m benchmarks.bench_ray --model runs/demo/model                 # after make demo; BBC News articles
    python -m benchmarks.bench_ray --model runs/demo/model --n 48 --no-record

Writes the first BBC News articles to temporary JSONL files and runs the real command in subprocesses, one run
after the other:

    python -m inference.tag IN.jsonl --model MODEL -o OUT.jsonl --device cpu                  (local: torch's 2 threads)
    OMP_NUM_THREADS=1 python -m inference.tag ...                                             (local, 1 thread)
    python -m inference.tag ... --engine ray --workers 1 / --workers 2                        (a local Ray instance)

Each Ray actor runs torch on one thread, so "local, 1 thread" is the like-for-like row for Ray's overhead.

Each runs on N/2 and on N articles (all four at one size, then all four at the other); the two wall times give
a marginal rate (N/2 articles over the difference) and a fixed cost (start-up and shut-down: the model load, and
for Ray the instance and its actors), so Ray's overhead is its fixed cost over the local engine's. Also: time
to the first written result, peak memory of the process tree (PSS: the driver and the Ray processes it started,
shared pages counted once) and whether the output equals the local engine's byte for byte. Ray's overhead is stated as the extra wall time and the extra start-up over the local engine.
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
    p.add_argument("--n", type=int, default=240, help="BBC News articles of the larger run (default 240)")
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


def run(cmd: list[str], out: Path, env: dict | None = None) -> dict:
    """Run a tagging command: wall time, time to the first result line, peak memory of its process tree."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    ps, first, peak = psutil.Process(proc.pid), None, 0
    while proc.poll() is None:
        peak = max(peak, tree_memory(ps))
        if first is None and out.is_file() and out.stat().st_size:
            first = time.perf_counter() - t0
        time.sleep(0.25)
    wall = time.perf_counter() - t0
    log = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"bench_ray: {' '.join(cmd[2:])} failed (exit {proc.returncode}):\n{log[-3000:]}")
    return {"wall": wall, "first": first if first is not None else wall, "peak": peak}


def main(argv=None) -> int:
    args = parse_args(argv)
    bbc = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if skip_if_missing([bbc]):
        return 0
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    csv.field_size_limit(2**31 - 1)
    sizes = (args.n // 2, args.n)
    one_thread = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    runs = {"local": ([], None), "local, 1 thread": ([], one_thread),
            "ray, 1 worker": (["--engine", "ray", "--workers", "1"], None),
            "ray, 2 workers": (["--engine", "ray", "--workers", "2"], None)}
    figures: dict = {name: {} for name in runs}
    outputs = {}
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        for size in sizes:  # every engine at one size, then every engine at the other: drift hits all alike
            feed = Path(tmp) / f"articles-{size}.jsonl"
            with bbc.open(encoding="utf-8", newline="") as f, feed.open("w", encoding="utf-8") as w:
                for i, row in enumerate(islice(csv.DictReader(f), size)):
                    w.write(json.dumps({"id": f"bbc-{i}", "title": row["title"], "text": row["text"]}) + "\n")
            base = [sys.executable, "-m", "inference.tag", str(feed), "--model", args.model, "--device", "cpu",
                    "--chunk", str(args.chunk)]
            for name, (extra, env) in runs.items():
                out = Path(tmp) / f"{name.replace(', ', '-').replace(' ', '')}-{size}.jsonl"
                f = figures[name][size] = run([*base, "-o", str(out), *extra], out, env)
                outputs[name] = out.read_bytes()
                print(f"{name}, {size} articles: {f['wall']:.1f} s, first result after {f['first']:.1f} s, peak "
                      f"{f['peak'] / MIB:.0f} MiB", flush=True)
    half, n = sizes
    metrics: dict = {"model": args.model, "articles": f"{half} and {n}", "source": str(bbc), "chunk": args.chunk}
    fit = {}
    for name, by_size in figures.items():
        rate = (n - half) / max(by_size[n]["wall"] - by_size[half]["wall"], 1e-9)  # the marginal rate
        fit[name] = (rate, by_size[n]["wall"] - n / rate)  # and the fixed cost: wall(n) = fixed + n / rate
    for name, by_size in figures.items():
        f, (rate, fixed) = by_size[n], fit[name]
        metrics[f"{name} wall s ({half} / {n} articles)"] = f"{by_size[half]['wall']:.1f} / {f['wall']:.1f}"
        metrics[f"{name} articles/s, whole command ({n})"] = round(n / f["wall"], 2)
        metrics[f"{name} articles/s, marginal ({half} more articles)"] = round(rate, 2)
        metrics[f"{name} fixed cost s (wall - articles / marginal rate)"] = round(fixed, 1)
        metrics[f"{name} s to the first result ({n})"] = round(f["first"], 1)
        metrics[f"{name} peak memory MiB (PSS of the process tree)"] = round(max(x["peak"] for x in by_size.values()) / MIB)
        if name != "local":
            metrics[f"{name} output identical to local"] = outputs[name] == outputs["local"]
        if name.startswith("ray"):  # against the local engine with the same threads per tagger (one)
            ref_rate, ref_fixed = fit["local, 1 thread"]
            metrics[f"{name} overhead s (fixed cost - local 1 thread's)"] = round(fixed - ref_fixed, 1)
            metrics[f"{name} / local 1 thread marginal articles/s"] = round(rate / ref_rate, 3)
            metrics[f"{name} / local whole-command articles/s ({n})"] = round(figures["local"][n]["wall"] / f["wall"], 3)
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
