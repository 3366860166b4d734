"""Tagging throughput on BBC News articles: ``python -m benchmarks.bench_tag [--shared PATH] [--model DIR] [--n 400]``.

Example:
    python -m benchmarks.bench_tag                           # trains a throwaway model first (a few minutes)
    python -m benchmarks.bench_tag --model runs/demo/model --n 40 --no-record

Compares, on the same encoder weights, with 2 torch threads, each path warmed up once on 16 articles:

(a) ``Tagger.pipe(batch_size=32, evidence=False)`` on ``(title, text)``;
(b) the same with ``evidence=True``;
(c) ``transformers.pipeline("text-classification")``: a ``BertForSequenceClassification`` holding the model
    folder's encoder and topic head, on ``"title\\ntext"``, truncated to the tagger's ``max_length``
    (one window, where the tagger reads every window of a long article; see the tokens/s figures);
(d) (a) after int8 dynamic quantization of every ``nn.Linear``, with its agreement with full precision.

Then times (a) per bucket of article length to plot seconds per article against tokens.
Without ``--model``, a model is trained for 20 steps on the bundled sample (quality is irrelevant here).
"""

from __future__ import annotations

import argparse
import copy
import csv
import os
import subprocess
import sys
import tempfile
import time
import warnings
from itertools import islice
from pathlib import Path

import numpy as np

from .results import PLOTS, REPO, add_common_args, record, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_tag"
WARMUP = 16


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_tag", description=__doc__.split("\n\n")[0])
    add_common_args(p)
    p.add_argument("--n", type=int, default=400, help="the first N articles of bbc_news.csv")
    p.add_argument("--model", help="model folder written by newstag-train (default: train a throwaway one)")
    p.add_argument("--batch-size", type=int, default=32, help="batch size of every path")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--buckets", type=int, default=6, help="length buckets (equal counts) of the cost plot")
    return p.parse_args(argv)


def read_bbc(path: Path, n: int) -> list[tuple[str, str]]:
    csv.field_size_limit(2**31 - 1)
    with path.open(encoding="utf-8", newline="") as f:
        return [(r["title"], r["text"]) for r in islice(csv.DictReader(f), n)]


def quick_model(tmp: Path) -> Path:
    """Build a dataset from data/sample and train 20 steps from the bundled base (a few minutes on 2 cores)."""
    env = {**os.environ, "TQDM_DISABLE": "1"}
    steps = [
        [sys.executable, "-m", "training.build", "data/sample", "--gold", "data/sample/labels.jsonl",
         "-o", str(tmp / "ds"), "--no-plots"],
        # batch_size 4 only makes the throwaway training faster; max_length/stride stay the defaults tagged with
        [sys.executable, "-m", "training.train", "--data", str(tmp / "ds"), "-o", str(tmp / "model"),
         "--config", "configs/train.yaml", "--max_steps", "20", "--epochs", "1", "--batch_size", "4"],
    ]
    for cmd in steps:
        out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"bench_tag: {' '.join(cmd[2:4])} failed (exit {out.returncode}):\n"
                             f"{(out.stdout + out.stderr)[-3000:]}")
    return tmp / "model"


def hf_classifier(model_dir: Path, tagger, out: Path) -> Path:
    """A ``BertForSequenceClassification`` folder with the tagger's encoder and its topic head as classifier."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig.from_pretrained(str(model_dir), num_labels=len(tagger.topics),
                                        id2label=dict(enumerate(tagger.topics)),
                                        label2id={t: i for i, t in enumerate(tagger.topics)},
                                        problem_type="multi_label_classification")
    clf = BertForSequenceClassification(config)
    state = load_file(str(model_dir / "model.safetensors"))
    mapped = {"bert." + k.removeprefix("encoder."): v for k, v in state.items() if k.startswith("encoder.")}
    mapped["classifier.weight"], mapped["classifier.bias"] = state["topic_head.weight"], state["topic_head.bias"]
    missing, unexpected = clf.load_state_dict(mapped, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"bench_tag: encoder weights do not map onto BertForSequenceClassification "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    clf.eval().save_pretrained(str(out))
    tagger.tokenizer.save_pretrained(str(out))
    return out


def timed(fn, items, warm) -> tuple[float, list]:
    """Warm up on ``warm``, then time one full pass over ``items``; returns (seconds, results)."""
    fn(warm)
    start = time.perf_counter()
    results = fn(items)
    return time.perf_counter() - start, results


def plot_cost(buckets: list[dict], max_length: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    x = [b["mean_tokens"] for b in buckets]
    ax.plot(x, [1000 * b["s_per_article"] for b in buckets], "o-", label="Tagger.pipe, evidence=False")
    for b in buckets:
        ax.annotate(f"{b['mean_windows']:.1f} win", (b["mean_tokens"], 1000 * b["s_per_article"]),
                    textcoords="offset points", xytext=(0, -14), ha="center", fontsize=8)
    ax.axvline(max_length, color="grey", ls=":", label=f"one window ({max_length} tokens)")
    ax.set_xlabel("article length in tokens (title + text; bucket mean)")
    ax.set_ylabel("milliseconds per article")
    ax.set_ylim(bottom=0)
    ax.set_title("newstag tagging cost by article length (BBC News, 2 threads)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    csv_path = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if skip_if_missing([csv_path]):
        return 0
    import torch
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    from inference import Tagger
    from inference.windows import encode_windows

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    load0 = os.getloadavg()[0]  # other work on the machine makes timings noisy
    arts = read_bbc(csv_path, args.n)
    joined = [f"{t}\n{x}" for t, x in arts]
    bs = args.batch_size
    metrics: dict[str, float | int | str] = {"articles": len(arts), "threads": args.threads, "batch_size": bs}

    with tempfile.TemporaryDirectory(prefix="bench_tag_") as tmp:
        tmp = Path(tmp)
        if args.model:
            model_dir = Path(args.model)
        else:
            print("no --model: training a throwaway model on data/sample (20 steps)...", flush=True)
            t = time.perf_counter()
            model_dir = quick_model(tmp)
            metrics["model setup s"] = round(time.perf_counter() - t, 1)
            print(f"model ready in {metrics['model setup s']}s")
        tagger = Tagger.from_pretrained(model_dir, device="cpu")
        tok = tagger.tokenizer

        # What each path encodes: newstag reads every window, the pipeline one truncated sequence.
        win = encode_windows(tok, [a[0] for a in arts], [a[1] for a in arts], tagger.max_length, tagger.stride)
        n_windows = np.bincount(win.article, minlength=len(arts))
        newstag_tokens = sum(len(w) for w in win.input_ids)
        full_tokens = np.array([len(ids) for ids in tok([a[0] for a in arts], [a[1] for a in arts])["input_ids"]])
        pipe_tokens = int(sum(min(len(ids), tagger.max_length) for ids in tok(joined)["input_ids"]))

        def tag(evidence, tg=tagger):
            return lambda items: list(tg.pipe(items, batch_size=bs, evidence=evidence))

        t_a, res_a = timed(tag(False), arts, arts[:WARMUP])
        t_b, _ = timed(tag(True), arts, arts[:WARMUP])

        clf = pipeline("text-classification", model=str(hf_classifier(model_dir, tagger, tmp / "hf")), device="cpu")

        def hf(items):
            return list(clf(items, batch_size=bs, truncation=True, max_length=tagger.max_length,
                            function_to_apply="sigmoid", top_k=None))

        t_c, res_c = timed(hf, joined, joined[:WARMUP])
        assert len(res_c) == len(arts) and len(res_c[0]) == len(tagger.topics)

        qtagger = copy.copy(tagger)
        with warnings.catch_warnings():  # torch.ao.quantization is deprecated (torchao), still the API asked for
            warnings.simplefilter("ignore")
            qtagger.model = torch.ao.quantization.quantize_dynamic(tagger.model, {torch.nn.Linear},
                                                                   dtype=torch.qint8)
        t_d, res_d = timed(tag(False, qtagger), arts, arts[:WARMUP])

    n = len(arts)
    same_topics = np.mean([set(a.topic_names) == set(d.topic_names) for a, d in zip(res_a, res_d, strict=True)])
    max_diff = max(abs(a.topic_scores[t] - d.topic_scores[t]) for a, d in zip(res_a, res_d, strict=True) for t in tagger.topics)
    same_stance = np.mean([a.stance == d.stance for a, d in zip(res_a, res_d, strict=True)])
    rate = {k: n / t for k, t in {"a": t_a, "b": t_b, "c": t_c, "d": t_d}.items()}
    metrics.update({
        "tokens per article (mean, untruncated)": round(float(full_tokens.mean()), 1),
        "windows per article (mean)": round(float(n_windows.mean()), 2),
        "max_length": tagger.max_length,
        "(a) newstag articles/s": round(rate["a"], 2),
        "(b) newstag evidence articles/s": round(rate["b"], 2),
        "(c) HF pipeline articles/s": round(rate["c"], 2),
        "(d) newstag int8 articles/s": round(rate["d"], 2),
        "ratio (a)/(c) newstag/pipeline": round(rate["a"] / rate["c"], 3),
        "ratio (b)/(c) newstag evidence/pipeline": round(rate["b"] / rate["c"], 3),
        "evidence cost (a)/(b)": round(rate["a"] / rate["b"], 3),
        "(a) newstag tokens/s": round(newstag_tokens / t_a, 1),
        "(c) HF pipeline tokens/s (truncated)": round(pipe_tokens / t_c, 1),
        "ratio int8/full (d)/(a)": round(rate["d"] / rate["a"], 3),
        "int8 identical topic sets": round(float(same_topics), 4),
        "int8 max abs topic score diff": round(float(max_diff), 4),
        "int8 identical stance": round(float(same_stance), 4),
    })

    # Cost by length: (a) again on equal-count buckets of article length.
    order = np.argsort(full_tokens, kind="stable")
    buckets = []
    for idx in np.array_split(order, min(args.buckets, n)):
        items = [arts[i] for i in idx]
        t0 = time.perf_counter()
        list(tagger.pipe(items, batch_size=bs, evidence=False))
        buckets.append({"mean_tokens": float(full_tokens[idx].mean()), "mean_windows": float(n_windows[idx].mean()),
                        "s_per_article": (time.perf_counter() - t0) / len(idx)})
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics["benchmark wall s"] = round(time.perf_counter() - started, 1)

    print(f"{n} BBC News articles: {metrics['tokens per article (mean, untruncated)']} tokens and "
          f"{metrics['windows per article (mean)']} windows of {tagger.max_length} per article; "
          f"{args.threads} threads, batch {bs}")
    width = max(len(k) for k in metrics)
    for k, v in metrics.items():
        print(f"  {k:<{width}}  {v}")
    print("  cost by length, Tagger.pipe evidence=False (bucket mean tokens -> ms/article):")
    for b in buckets:
        print(f"    {b['mean_tokens']:7.0f} tokens, {b['mean_windows']:.1f} windows: {1000 * b['s_per_article']:7.1f}")
    if args.no_record:
        print("(--no-record: nothing written)")
        return 0
    png = PLOTS / "tag_cost.png"
    plot_cost(buckets, tagger.max_length, png)
    record(NAME, metrics, plots=[png])
    print(f"recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md; plot {png.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
