"""Record benchmark runs: one JSON line per run in ``results.jsonl``, and ``RESULTS.md`` regenerated from it.

Example:
    >>> from benchmarks.results import record
    >>> record("bench_tag", {"articles_per_s": 12.5}, plots=[PLOTS / "tag_cost.png"])
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PLOTS = HERE / "plots"
RESULTS_JSONL = HERE / "results.jsonl"
RESULTS_MD = HERE / "RESULTS.md"


def shared_dir(cli_value: str | None) -> Path:
    """The shared folder: ``--shared``, else ``$NEWSTAG_SHARED``, else ``<repo>/../shared``."""
    return Path(cli_value or os.environ.get("NEWSTAG_SHARED") or REPO.parent / "shared").resolve()


def benchmark_parser(name: str, doc: str) -> argparse.ArgumentParser:
    """The parser every benchmark starts from: ``python -m benchmarks.NAME``, the first paragraph of its
    docstring, and the common flags ``--shared`` and ``--no-record``."""
    p = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}", description=doc.split("\n\n")[0])
    p.add_argument("--shared", help="shared folder holding corpora/ (default: $NEWSTAG_SHARED or ../shared)")
    p.add_argument("--no-record", action="store_true",
                   help="print the figures only; leave results.jsonl and RESULTS.md alone (trial runs)")
    return p


def save_plot(fig, path: Path, rect: tuple[float, float, float, float] | None = None) -> None:
    """Lay out ``fig`` (its axes inside ``rect``, figure fractions left, bottom, right, top: room for a legend
    below them), write it to ``path`` as a PNG (its folder made if needed) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=rect)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def skip_if_missing(paths: Sequence[Path]) -> bool:
    """Print ``skipped: ... not found`` and return True when any of ``paths`` is absent."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"skipped: {', '.join(missing)} not found (pass --shared PATH or set NEWSTAG_SHARED)")
        return True
    return False


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine() -> str:
    """Platform, CPU count and CPU model, e.g. ``Linux-6.1-x86_64 | 2 CPUs | AMD EPYC``."""
    model = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = usable_cores()
    total = os.cpu_count() or cores
    count = f"{cores} CPUs" + (f" (of {total})" if total != cores else "")
    return f"{platform.platform()} | {count} | {model}"


# what benchmarks write themselves: a change there does not make the code a run measured differ from the commit
OUTPUTS = (":!benchmarks/results.jsonl", ":!benchmarks/RESULTS.md", ":!benchmarks/plots")


def commit() -> str:
    """HEAD's short hash, with ``+uncommitted`` where tracked files other than the benchmarks' outputs differ from
    it (the run measured code that no commit holds); ``unknown`` outside a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", ".", *OUTPUTS], cwd=REPO,
                               capture_output=True, timeout=10).returncode == 1
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0 or not out.stdout.strip():
        return "unknown"
    return out.stdout.strip() + ("+uncommitted" if dirty else "")


def command_line() -> str:
    """The exact command line of this run (``sys.orig_argv`` keeps ``-m benchmarks.NAME``)."""
    return shlex.join(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])


def record(name: str, metrics: dict, plots: Sequence[str | Path] = ()) -> dict:
    """Append one run to ``results.jsonl`` and regenerate ``RESULTS.md``.

    Args:
        name: the benchmark's name (``bench_build``).
        metrics: flat ``{metric name: number or string}``.
        plots: PNG files the run wrote under ``benchmarks/plots/``; linked from RESULTS.md.
    Returns:
        The JSON object written.
    """
    entry = {"benchmark": name, "metrics": metrics, "command": command_line(),
             "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "machine": machine(), "commit": commit(),
             "plots": [Path(p).resolve().relative_to(HERE).as_posix() for p in plots]}
    with RESULTS_JSONL.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    write_markdown()
    return entry


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def write_markdown() -> None:
    """``RESULTS.md``: for each benchmark, its latest run (metrics, command, date, machine, commit, plots)."""
    latest: dict[str, dict] = {}
    runs: dict[str, int] = {}
    if RESULTS_JSONL.is_file():
        for line in RESULTS_JSONL.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                latest[entry["benchmark"]] = entry
                runs[entry["benchmark"]] = runs.get(entry["benchmark"], 0) + 1
    parts = ["# Benchmark results", "",
             "Generated by `benchmarks/results.py` from `results.jsonl` (every run, one JSON line each); "
             "the latest run of each benchmark is shown.", ""]
    for name in sorted(latest):
        e = latest[name]
        parts += [f"## {name}", "",
                  f"- command: `{e['command']}`", f"- date: {e['date']}", f"- machine: {e['machine']}",
                  f"- commit: `{e['commit']}`", f"- runs recorded: {runs[name]}", "",
                  "| metric | value |", "|---|---|"]
        parts += [f"| {k} | {_fmt(v)} |" for k, v in e["metrics"].items()]
        parts.append("")
        for plot in e.get("plots", []):
            parts += [f"![{Path(plot).stem}]({plot})", ""]
    RESULTS_MD.write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    write_markdown()
    print(f"wrote {RESULTS_MD}")


def print_metrics(metrics: dict) -> None:
    """The figures as an aligned two-column list."""
    width = max(len(k) for k in metrics)
    for k, v in metrics.items():
        print(f"  {k:<{width}}  {v}")


def finish(name: str, metrics: dict, no_record: bool, plots: Sequence[str | Path] = ()) -> int:
    """Print the figures and, unless ``no_record``, record them; a benchmark's ``main`` returns this."""
    print_metrics(metrics)
    if no_record:
        print("(--no-record: nothing written)")
        return 0
    record(name, metrics, plots=plots)
    print("recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md")
    return 0
