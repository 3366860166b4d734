"""Peak memory of ``newstag-tag`` on a long stream: ``python -m benchmarks.bench_tag_memory [--shared PATH] [--n 100000]``.

Example:
    python -m benchmarks.bench_tag_memory                    # 100,000 articles, random small model (under an hour)
    python -m benchmarks.bench_tag_memory --model runs/demo/model --n 20000
    python -m benchmarks.bench_tag_memory --n 1500 --no-record

Writes a JSONL stream of N articles (``id``, ``title``, ``text``) by cycling through BBC News, each copy
with its own id and title, then runs the real command in a subprocess::

    python -m inference.tag INPUT.jsonl -o OUT.jsonl --model MODEL --device cpu

and samples its resident memory (children included) every 0.5 s with the lines written so far. Reports
peak RSS, RSS at 10/50/100% of the stream, the slope of RSS from 20% to 100% (MiB per 10k articles; a
flat stream is ~0) and whether the peak stays under 1.5 GB (issue 5). Plot: RSS against articles done.

Without ``--model``, the model is a 2-layer BERT of width 128 with random weights and the bundled base
model's tokenizer, so 100,000 articles take under an hour on 2 cores: memory per article does not depend
on weight values, and the real 22M-parameter model adds its weights (about 90 MB in float32) once.
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
from itertools import cycle, islice
from pathlib import Path

import numpy as np

from .results import (
    PLOTS,
    REPO,
    benchmark_parser,
    print_metrics,
    record,
    save_plot,
    shared_dir,
    skip_if_missing,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_tag_memory"
LIMIT_MIB = 1536  # issue 5: "under 1.5 GB"
INTERVAL_S = 0.5
MIB = 2**20
RANDOM_NOTE = ("random weights, small encoder: memory per article does not depend on weight values; "
               "the real 22M model adds its weights once")


def parse_args(argv=None) -> argparse.Namespace:
    p = benchmark_parser("bench_tag_memory", __doc__)
    p.add_argument("--n", type=int, default=100_000, help="articles in the stream (BBC News, cycled)")
    p.add_argument("--model", help="newstag model folder (default: a small random-weight model, see above)")
    p.add_argument("--batch-size", type=int, default=32, help="newstag-tag --batch-size (windows per forward pass)")
    p.add_argument("--chunk", type=int, default=256, help="newstag-tag --chunk (articles tagged and written per step)")
    p.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS / MKL_NUM_THREADS of the subprocess")
    return p.parse_args(argv)


def write_stream(csv_path: Path, n: int, out: Path) -> int:
    """Write ``n`` articles as JSONL by cycling through ``bbc_news.csv``; copy k of an article gets " (copy k)"."""
    csv.field_size_limit(2**31 - 1)
    with csv_path.open(encoding="utf-8", newline="") as f:
        bbc = [(r["title"], r["text"]) for r in csv.DictReader(f)]
    if not bbc:
        raise SystemExit(f"bench_tag_memory: {csv_path} holds no articles")
    with out.open("w", encoding="utf-8") as f:
        for i, (title, text) in enumerate(islice(cycle(bbc), n)):
            copy = i // len(bbc)
            title = f"{title} (copy {copy})" if copy else title
            f.write(json.dumps({"id": f"bbc-{i}", "title": title, "text": text}, ensure_ascii=False) + "\n")
    return len(bbc)


def random_model(out: Path) -> Path:
    """A newstag model folder: 2-layer BERT of width 128, random weights, the bundled base model's tokenizer."""
    import dataclasses

    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from inference import model_folder
    from inference.model import default_base_model
    from inference.modeling import NewstagModel
    from inference.schema import load_schema
    from training.trainer.config import load_config

    base = default_base_model()
    tokenizer = AutoTokenizer.from_pretrained(base)
    schema = load_schema(REPO / "configs" / "labels.yaml")
    cfg = load_config(str(REPO / "configs" / "train.yaml"), [])  # max_length and stride a real model is tagged with
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=512, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = NewstagModel.from_encoder(BertModel(config), schema.topic_names, schema.stance_names).eval()
    manifest = model_folder.new_manifest(schema.to_dict(), dataclasses.asdict(cfg), base, name="bench-random-small",
                                         version=cfg.model_version, max_length=cfg.max_length, stride=cfg.stride)
    model_folder.save(out, model, tokenizer, manifest)
    return out


def parameter_count(model_dir: Path) -> int:
    """Parameters in the folder's ``model.safetensors``, read from the header (no weights loaded)."""
    from safetensors import safe_open

    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as f:
        return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())


def rss_mib(proc) -> float:
    """Resident memory of ``proc`` and its children (a child may exit between listing and reading)."""
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / MIB


def run_sampled(cmd: list[str], env: dict, out: Path, log: Path) -> tuple[list[tuple[float, int, float]], int, float]:
    """Run ``cmd``; every 0.5 s note (seconds, lines in ``out``, RSS MiB). Returns (samples, exit code, seconds)."""
    import psutil

    samples: list[tuple[float, int, float]] = []
    lines, offset = 0, 0
    with log.open("wb") as logf:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=logf, stderr=subprocess.STDOUT)
        proc = psutil.Process(child.pid)
        while True:
            finished = child.poll() is not None
            rss = 0.0 if finished else rss_mib(proc)
            if out.is_file():  # count only the bytes written since the last look
                with out.open("rb") as f:
                    f.seek(offset)
                    data = f.read()
                offset += len(data)
                lines += data.count(b"\n")
            if finished:
                break
            samples.append((time.perf_counter() - start, lines, rss))
            time.sleep(INTERVAL_S)
        return samples, child.returncode, time.perf_counter() - start


def rss_at(samples, done: float) -> float:
    """RSS of the first sample with at least ``done`` articles written (the last sample if none has)."""
    return next((r for _, d, r in samples if d >= done), samples[-1][2])


def plot_memory(samples, n: int, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot([d for _, d, _ in samples], [r for _, _, r in samples], "-", lw=1.2, label="newstag-tag RSS")
    ax.axhline(LIMIT_MIB, color="red", ls="--", label=f"{LIMIT_MIB} MiB (1.5 GB limit)")
    ax.set_xlim(0, n)
    ax.set_ylim(bottom=0, top=max(LIMIT_MIB * 1.1, max(r for _, _, r in samples) * 1.1))
    ax.set_xlabel("articles written")
    ax.set_ylabel("resident memory, MiB (children included)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    save_plot(fig, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    csv_path = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if skip_if_missing([csv_path]):
        return 0
    started = time.perf_counter()
    load0 = os.getloadavg()[0]  # other work on the machine slows the run (memory is unaffected)
    n = args.n
    metrics: dict[str, float | int | str] = {"articles": n, "threads": args.threads, "batch_size": args.batch_size,
                                             "chunk": args.chunk}

    with tempfile.TemporaryDirectory(prefix="bench_tag_memory_") as tmp:
        tmp = Path(tmp)
        stream, out = tmp / "stream.jsonl", tmp / "tags.jsonl"
        distinct = write_stream(csv_path, n, stream)
        metrics["distinct BBC articles cycled"] = distinct
        metrics["input MiB"] = round(stream.stat().st_size / MIB, 1)
        if args.model:
            model_dir = Path(args.model)
            metrics["model"] = str(model_dir)
        else:
            model_dir = random_model(tmp / "model")
            metrics["model"] = "2-layer BERT, hidden 128, " + RANDOM_NOTE
            print(f"no --model: {RANDOM_NOTE}")
        metrics["model parameters"] = parameter_count(model_dir)
        cmd = [sys.executable, "-m", "inference.tag", str(stream), "-o", str(out), "--model", str(model_dir),
               "--device", "cpu", "--batch-size", str(args.batch_size), "--chunk", str(args.chunk)]
        threads = str(args.threads)
        env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "TQDM_DISABLE": "1",
               "TOKENIZERS_PARALLELISM": "false"}
        print(f"tagging {n} articles ({metrics['input MiB']} MiB JSONL), sampling RSS every {INTERVAL_S}s...",
              flush=True)
        samples, rc, secs = run_sampled(cmd, env, out, tmp / "tag.log")
        log = (tmp / "tag.log").read_text(encoding="utf-8", errors="replace")
        if rc != 0 or not samples:
            raise SystemExit(f"bench_tag_memory: newstag-tag failed (exit {rc}):\n{log[-3000:]}")
        written = sum(1 for _ in out.open("rb")) if out.is_file() else 0
        errors = tmp / "tags.errors.jsonl"
        bad = sum(1 for _ in errors.open("rb")) if errors.is_file() else 0

    done = np.array([d for _, d, _ in samples], dtype=float)
    rss = np.array([r for _, _, r in samples])
    tail = done >= 0.2 * n
    slope = float(np.polyfit(done[tail], rss[tail], 1)[0]) * 10_000 if len(set(done[tail])) > 1 else float("nan")
    peak = float(rss.max())
    steady = [(t, d) for t, d, _ in samples if d >= 0.1 * n]
    metrics.update({
        "peak RSS MiB": round(peak, 1),
        "RSS at 10% MiB": round(rss_at(samples, 0.1 * n), 1),
        "RSS at 50% MiB": round(rss_at(samples, 0.5 * n), 1),
        "RSS at 100% MiB": round(rss_at(samples, n), 1),
        "RSS slope 20-100% MiB per 10k articles": round(slope, 2),
        "under 1.5 GB (1536 MiB)": "yes" if peak < LIMIT_MIB else "no",
        "articles/s (whole command, model load included)": round(n / secs, 2),
        "articles/s (from 10% done to the last sample)": round((steady[-1][1] - steady[0][1])
                                                               / (steady[-1][0] - steady[0][0]), 2)
        if len(steady) > 1 and steady[-1][0] > steady[0][0] else "n/a",
        "lines written": written,
        "lines written == articles": "yes" if written == n else "no",
        "bad records": bad,
        "RSS samples": len(samples),
        "tag command wall s": round(secs, 1),
        "load average at start / end": f"{load0:.2f} / {os.getloadavg()[0]:.2f}",
        "benchmark wall s": round(time.perf_counter() - started, 1),
    })

    print(log.strip().splitlines()[-1] if log.strip() else "(newstag-tag printed nothing)")
    print_metrics(metrics)
    if args.no_record:
        print("(--no-record: nothing written)")
        return 0
    png = PLOTS / "tag_memory.png"
    kind = "random small model" if not args.model else Path(args.model).name
    plot_memory(samples, n, f"newstag-tag resident memory over {n:,} BBC News articles\n"
                            f"({kind}, {args.threads} threads)", png)
    record(NAME, metrics, plots=[png])
    print(f"recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md; plot {png.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
