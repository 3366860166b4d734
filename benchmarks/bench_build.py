"""Speed and memory of ``newstag-build`` on all public corpora: ``python -m benchmarks.bench_build [--shared PATH]``.

Example:
    python -m benchmarks.bench_build                       # 25 %, 50 %, 100 % of ~23,000 documents
    python -m benchmarks.bench_build --fractions 0.02,0.04 --no-record   # a quick trial

Every corpus under ``SHARED/corpora`` (Reuters-21578, BBC News, FNC-1 bodies, AG News) is first converted
to JSONL inputs in a temporary folder (not timed). The builder (``training.build.main``, ``--no-plots``) then
runs in a fresh subprocess on a seeded random 25 %, 50 % and 100 % of the documents (nested samples). Per size:
wall time of the build process, articles read per second (and per usable core), CPU time, and the peak RSS
of the build process (``ru_maxrss`` from ``wait4``, so each size is measured alone). Also builds BBC News
alone and reports the exact duplicates the builder found (the corpus README says 98).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .results import (
    PLOTS,
    REPO,
    benchmark_parser,
    record,
    save_plot,
    shared_dir,
    skip_if_missing,
    usable_cores,
)

NAME = "bench_build"
CORPUS_FILES = {
    "reuters21578": ["modapte_r90_train.jsonl", "modapte_r90_test.jsonl"],
    "bbc-news": ["bbc_news.csv"],
    "fnc-1": ["train_bodies.csv"],
}  # ag_news and fnc-1's competition test bodies are reserved for held-out evaluation (../shared/gold/README.md)


def parse_args(argv=None) -> argparse.Namespace:
    p = benchmark_parser("bench_build", __doc__)
    p.add_argument("--fractions", default="0.25,0.5,1.0", help="fractions of all documents to build, in order")
    p.add_argument("--seed", type=int, default=0, help="seed of the document sample")
    return p.parse_args(argv)


# ---- conversion (not timed) ---------------------------------------------------------------------------------
def _csv_rows(path: Path, header: bool = True):
    csv.field_size_limit(2**31 - 1)
    with path.open(encoding="utf-8", newline="") as f:
        yield from (csv.DictReader(f) if header else csv.reader(f))


def load_documents(corpora: Path) -> dict[str, list[dict]]:
    """Every document of every corpus as ``{"id", "title"?, "text", "source"}``, per corpus, in file order."""
    docs: dict[str, list[dict]] = {}
    rows = []
    for name in CORPUS_FILES["reuters21578"]:
        for line in (corpora / "reuters21578" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                title, body = (r.get("title") or "").strip(), (r.get("body") or "").strip()
                # 926 documents have a title and no body: the title is then the text too
                rows.append({"id": f"reuters-{r['newid']}", "title": title, "text": body or title,
                             "source": "reuters"})
    docs["reuters21578"] = rows
    docs["bbc-news"] = [{"id": f"bbc-{r['category']}/{r['file']}", "title": r["title"], "text": r["text"],
                         "source": "bbc"} for r in _csv_rows(corpora / "bbc-news" / "bbc_news.csv")]
    rows = []
    for name in CORPUS_FILES["fnc-1"]:
        split = name.split("_")[0]
        # bodies have no headline: the title is left out and the builder takes the text's first line
        rows += [{"id": f"fnc-{split}-{r['Body ID']}", "text": r["articleBody"], "source": "fnc-1"}
                 for r in _csv_rows(corpora / "fnc-1" / name)]
    docs["fnc-1"] = rows
    return docs


def write_inputs(folder: Path, docs: dict[str, list[dict]], keep: set[tuple[str, int]] | None) -> int:
    """One JSONL file per corpus with the kept documents; returns how many were written."""
    folder.mkdir(parents=True)
    n = 0
    for corpus, rows in docs.items():
        with (folder / f"{corpus}.jsonl").open("w", encoding="utf-8") as f:
            for i, row in enumerate(rows):
                if keep is None or (corpus, i) in keep:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n += 1
    return n


# ---- one timed build ----------------------------------------------------------------------------------------
def run_build(inputs: Path, out: Path, log: Path) -> dict:
    """Run ``training.build.main`` in a subprocess; wall time, CPU time and peak RSS of that process alone."""
    cmd = [sys.executable, "-m", "training.build", str(inputs), "-o", str(out), "--no-plots",
           "--labels", str(REPO / "configs" / "labels.yaml")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "TQDM_DISABLE": "1"}
    with log.open("w", encoding="utf-8") as f:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT)
        # wait4 gives this child's own rusage; getrusage(RUSAGE_CHILDREN) would keep the max over all sizes
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"bench_build: the build failed (exit {proc.returncode}); its output:\n{text[-3000:]}")
    m = re.search(r"^articles (\d+), skipped (\d+)", text, re.M)
    metrics = json.loads((out / "build_metrics.json").read_text(encoding="utf-8"))
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "articles": int(m.group(1)) if m else None, "skipped": int(m.group(2)) if m else None,
            "examples": metrics["examples"], "exact_duplicates": metrics["exact_duplicates"],
            "near_duplicates": metrics["near_duplicates"]}


def reference_duplicates(rows: list[dict]) -> tuple[int, int]:
    """Documents repeating an earlier one: byte-identical title and text (the README's count), and identical
    after the builder's normalization (lowercased words only: whitespace, case and punctuation ignored)."""
    from training.builder.dedup import normalize

    def repeats(keys) -> int:
        return sum(n - 1 for n in Counter(keys).values())

    raw = repeats((r.get("title", ""), r["text"]) for r in rows)
    return raw, repeats(normalize(r.get("title", "") + "\n" + r["text"]) for r in rows)


def plot(sizes: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [s["documents"] for s in sizes]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(n, [s["wall_s"] for s in sizes], "o-", label="wall time")
    a.plot(n, [s["cpu_s"] for s in sizes], "s--", label="CPU time")
    if len(sizes) > 1:  # the line through the smallest size, from the origin: what linear scaling looks like
        k = sizes[0]["wall_s"] / n[0]
        a.plot([0, n[-1]], [0, k * n[-1]], ":", color="grey", label="linear from smallest size")
    a.set_xlabel("documents in the build")
    a.set_ylabel("seconds")
    a.set_title("newstag-build time")
    a.legend()
    b.plot(n, [s["peak_rss_mb"] for s in sizes], "o-", color="tab:red")
    b.set_ylim(bottom=0)
    b.set_xlabel("documents in the build")
    b.set_ylabel("peak RSS (MiB)")
    b.set_title("newstag-build peak memory")
    for ax in (a, b):
        ax.grid(alpha=0.3)
    save_plot(fig, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    corpora = shared_dir(args.shared) / "corpora"
    if skip_if_missing([corpora / c / f for c, files in CORPUS_FILES.items() for f in files]):
        return 0
    fractions = [float(x) for x in args.fractions.split(",")]
    cores = usable_cores()
    started = time.perf_counter()
    load0 = os.getloadavg()[0]  # other work on the machine makes timings noisy
    docs = load_documents(corpora)
    every = [(c, i) for c, rows in docs.items() for i in range(len(rows))]
    order = random.Random(args.seed).sample(every, len(every))  # nested samples: 25 % is inside 50 %
    print(f"{len(every)} documents: " + ", ".join(f"{c} {len(r)}" for c, r in docs.items()) + f"; {cores} cores")

    sizes = []
    metrics: dict[str, float | int | str] = {"documents_total": len(every), "cores": cores}
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        tmp = Path(tmp)
        for frac in fractions:
            keep = set(order[: round(frac * len(order))])
            inputs = tmp / f"in-{frac}"
            n_docs = write_inputs(inputs, docs, keep)
            r = run_build(inputs, tmp / f"ds-{frac}", tmp / f"log-{frac}.txt")
            r.update(fraction=frac, documents=n_docs)
            r["articles_per_s"] = (r["articles"] or n_docs) / r["wall_s"]
            # the builder runs in one process: per core is per second of the CPU time it used
            r["articles_per_s_per_core"] = (r["articles"] or n_docs) / max(r["cpu_s"], 1e-9)
            sizes.append(r)
            print(f"{frac:>6.0%}: {n_docs} documents, {r['articles']} articles read, {r['wall_s']:.1f}s wall, "
                  f"{r['cpu_s']:.1f}s CPU, {r['articles_per_s']:.1f} articles/s "
                  f"({r['articles_per_s_per_core']:.1f} per CPU-second), peak RSS {r['peak_rss_mb']:.0f} MiB; "
                  f"duplicates {r['exact_duplicates']} exact + {r['near_duplicates']} near")
            label = f"{frac:.0%}"
            metrics.update({f"{label} documents": n_docs, f"{label} articles read": r["articles"],
                            f"{label} wall s": round(r["wall_s"], 2), f"{label} CPU s": round(r["cpu_s"], 2),
                            f"{label} articles/s": round(r["articles_per_s"], 1),
                            f"{label} articles per CPU-second": round(r["articles_per_s_per_core"], 1),
                            f"{label} peak RSS MiB": round(r["peak_rss_mb"], 1)})
            shutil.rmtree(tmp / f"ds-{frac}")

        bbc_in = tmp / "in-bbc"
        write_inputs(bbc_in, {"bbc-news": docs["bbc-news"]}, None)
        bbc = run_build(bbc_in, tmp / "ds-bbc", tmp / "log-bbc.txt")
    raw, normalized = reference_duplicates(docs["bbc-news"])
    print(f"bbc-news alone: {bbc['articles']} articles, exact duplicates found {bbc['exact_duplicates']} "
          f"(corpus README: 98; counted here: {raw} byte-identical title+text repeats, {normalized} after "
          f"normalization), near duplicates {bbc['near_duplicates']}, {bbc['wall_s']:.1f}s")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        growth = last["documents"] / first["documents"]
        metrics["time growth / size growth (1 = linear)"] = round(last["wall_s"] / first["wall_s"] / growth, 3)
        metrics["peak RSS largest / smallest"] = round(last["peak_rss_mb"] / first["peak_rss_mb"], 3)
        print(f"size x{growth:.1f}: time x{last['wall_s'] / first['wall_s']:.2f}, "
              f"peak RSS x{last['peak_rss_mb'] / first['peak_rss_mb']:.2f}")
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics.update({"bbc exact duplicates found": bbc["exact_duplicates"], "bbc exact duplicates in README": 98,
                    "bbc byte-identical repeats counted": raw, "bbc normalized repeats counted": normalized,
                    "bbc near duplicates found": bbc["near_duplicates"],
                    "benchmark wall s": round(time.perf_counter() - started, 1)})
    png = PLOTS / "build_scaling.png"
    if args.no_record:
        print(f"(--no-record: nothing written; benchmark took {metrics['benchmark wall s']}s)")
        return 0
    plot(sizes, png)
    record(NAME, metrics, plots=[png])
    print(f"recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md; plot {png.relative_to(REPO)}; "
          f"benchmark took {metrics['benchmark wall s']}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
