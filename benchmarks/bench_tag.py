"""Tagging throughput and agreement: ``python -m benchmarks.bench_tag [--shared PATH] [--model DIR] [--articles F]``.

Example:
    python -m benchmarks.bench_bbc --save-model runs/bbc        # a model trained on BBC News, with its test split
    python -m benchmarks.bench_tag --model runs/bbc --articles runs/bbc/test_articles.jsonl
    python -m benchmarks.bench_tag --n 40 --no-record             # trains a throwaway model first (a few minutes)

Every path runs the same model folder's weights on the same ``(title, text)`` articles with the same torch
threads, batch size and warm-up (16 articles), best of ``--repeats`` interleaved passes. Boilerplate stripping
is off in every newstag row so each path reads exactly the same text.

Like for like, one window per article truncated to the model's ``max_length`` (what the pipeline can do):

(p) ``transformers.pipeline("text-classification")`` on ``{"text": title, "text_pair": text}``, with a
    ``BertForSequenceClassification`` whose forward mean-pools like the tagger (the trained model's function)
    and whose classifier is the topic head: the reference;
(a) ``Tagger.pipe`` with ``max_windows = 1``, fp32: must give the pipeline's scores (checked, reported);
(b) the same in bf16 (``Tagger.from_pretrained(half=True)``);
(c) the same after int8 dynamic quantization (``quantize="int8"``).

newstag as used, reading every window of a long article:

(d) fp32, (e) bf16, (f) int8, (g) fp32 with evidence sentences.

Agreement with fp32 (identical topic sets, identical stance, largest score difference) is reported for each
row; with gold topics (``--articles`` rows carry ``topics``, or the BBC CSV's category when the model's topics
are BBC's), topic micro-F1 of each row's decisions (the model's thresholds) too. Then (d) and (e) are timed per
bucket of article length for the cost plot. Without ``--model``, a model is trained for 20 steps on the
bundled sample (speed only: its scores mean nothing).
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

import numpy as np

from .results import PLOTS, REPO, benchmark_parser, record, save_plot, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_tag"
WARMUP = 16


def parse_args(argv=None) -> argparse.Namespace:
    p = benchmark_parser("bench_tag", __doc__)
    p.add_argument("--n", type=int, default=400, help="at most N articles (default 400)")
    p.add_argument("--articles", help="JSONL of title, text and optional gold topics (default: the BBC CSV)")
    p.add_argument("--model", help="model folder written by newstag-train (default: train a throwaway one)")
    p.add_argument("--batch-size", type=int, default=32, help="batch size of every path")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--repeats", type=int, default=2, help="interleaved timed passes per path; the best counts")
    p.add_argument("--buckets", type=int, default=6, help="length buckets (equal counts) of the cost plot")
    return p.parse_args(argv)


def read_articles(args) -> tuple[list[tuple[str, str]], list[list[str]] | None, str]:
    """Articles as ``(title, text)``, their gold topics (or None), and where they came from."""
    if args.articles:
        rows = [json.loads(line) for line in islice(Path(args.articles).open(encoding="utf-8"), args.n)]
        gold = [r["topics"] for r in rows] if all("topics" in r for r in rows) else None
        return [(r.get("title") or "", r["text"]) for r in rows], gold, args.articles
    from .common_train import label_name

    path = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    csv.field_size_limit(2**31 - 1)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(islice(csv.DictReader(f), args.n))
    return [(r["title"], r["text"]) for r in rows], [[label_name(r["category"])] for r in rows], str(path)


def quick_model(tmp: Path) -> Path:
    """Build a dataset from data/sample and train 20 steps from the bundled base (a few minutes on 2 cores)."""
    env = {**os.environ, "TQDM_DISABLE": "1"}
    steps = [
        [sys.executable, "-m", "training.build", "data/sample", "--gold", "data/sample/labels.jsonl",
         "-o", str(tmp / "ds"), "--no-plots"],
        [sys.executable, "-m", "training.train", "--data", str(tmp / "ds"), "-o", str(tmp / "model"),
         "--config", "configs/train.yaml", "--max_steps", "20", "--epochs", "1", "--batch_size", "4"],
    ]
    for cmd in steps:
        out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"bench_tag: {' '.join(cmd[2:4])} failed (exit {out.returncode}):\n"
                             f"{(out.stdout + out.stderr)[-3000:]}")
    return tmp / "model"


def hf_pipeline(model_dir: Path, tagger, threads: int):
    """``transformers.pipeline`` over a BertForSequenceClassification that pools like the tagger.

    The forward mean-pools the last hidden states over the attention mask and applies the topic head, the
    function the tagger was trained as (``token_type_ids`` are not used, as in training); the unused BERT
    pooler is removed so neither side does work the other skips.
    """
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForSequenceClassification, pipeline
    from transformers.modeling_outputs import SequenceClassifierOutput

    class MeanPooledBert(BertForSequenceClassification):
        def forward(self, input_ids=None, attention_mask=None, **_):
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(states.dtype)
            return SequenceClassifierOutput(logits=self.classifier((states * m).sum(1) / m.sum(1).clamp(min=1.0)))

    # the encoder's own config (nested in the folder's newstag config.json)
    config = BertConfig.from_dict(tagger.model.encoder.config.to_dict(), num_labels=len(tagger.topics),
                                  id2label=dict(enumerate(tagger.topics)),
                                  label2id={t: i for i, t in enumerate(tagger.topics)})
    clf = MeanPooledBert(config)
    state = load_file(str(model_dir / "model.safetensors"))
    clf.bert.pooler = None
    mapped = {"bert." + k.removeprefix("encoder."): v for k, v in state.items()
              if k.startswith("encoder.") and not k.startswith("encoder.pooler.")}
    mapped["classifier.weight"], mapped["classifier.bias"] = state["topic_head.weight"], state["topic_head.bias"]
    missing, unexpected = clf.load_state_dict(mapped, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"bench_tag: encoder weights do not map onto BertForSequenceClassification "
                         f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    return pipeline("text-classification", model=clf.eval(), tokenizer=tagger.tokenizer, device="cpu")


def scores_from_logits(logits: np.ndarray, tagger) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits / tagger.topic_temperature))


def micro_f1(decisions: np.ndarray, gold: np.ndarray) -> float:
    tp = float((decisions & gold).sum())
    return 2 * tp / max(float(decisions.sum() + gold.sum()), 1.0)


def plot_cost(series: dict[str, list[dict]], max_length: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, buckets in series.items():
        x = [b["mean_tokens"] for b in buckets]
        ax.plot(x, [1000 * b["s_per_article"] for b in buckets], "o-", label=label)
    for b in next(iter(series.values())):
        ax.annotate(f"{b['mean_windows']:.1f} win", (b["mean_tokens"], 1000 * b["s_per_article"]),
                    textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    ax.axvline(max_length, color="grey", ls=":", label=f"one window ({max_length} tokens)")
    ax.set_xlabel("article length in tokens (title + text; bucket mean)")
    ax.set_ylabel("milliseconds per article")
    ax.set_ylim(bottom=0)
    ax.set_title("newstag tagging cost by article length (every window read)")
    ax.grid(alpha=0.3)
    ax.legend()
    save_plot(fig, path)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.articles and skip_if_missing([shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"]):
        return 0
    import torch
    from transformers.utils import logging as hf_logging

    from inference import Tagger
    from inference.windows import encode_windows

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    load0 = os.getloadavg()[0]  # other work on the machine makes timings noisy
    arts, gold_names, source = read_articles(args)
    bs, n = args.batch_size, len(arts)

    with tempfile.TemporaryDirectory(prefix="bench_tag_") as tmp:
        if args.model:
            model_dir = Path(args.model)
        else:
            print("no --model: training a throwaway model on data/sample (20 steps)...", flush=True)
            model_dir = quick_model(Path(tmp))
        taggers = {"fp32": Tagger.from_pretrained(model_dir, device="cpu"),
                   "bf16": Tagger.from_pretrained(model_dir, device="cpu", half=True),
                   "int8": Tagger.from_pretrained(model_dir, device="cpu", quantize="int8")}
        base = taggers["fp32"]
        for tg in taggers.values():
            tg.boilerplate = set()  # every path reads the same text
        clf = hf_pipeline(model_dir, base, args.threads)

        def newstag(kind: str, windows: int | None, evidence: bool = False):
            def run(items):
                tg = taggers[kind]
                tg.max_windows = windows
                return list(tg.pipe(items, batch_size=bs, evidence=evidence))
            return run

        def hf(items):
            out = clf([{"text": t, "text_pair": x} for t, x in items], batch_size=bs, truncation=True,
                      max_length=base.max_length, function_to_apply="none", top_k=None)
            index = {t: j for j, t in enumerate(base.topics)}
            logits = np.zeros((len(items), len(base.topics)), dtype=np.float32)
            for i, labels in enumerate(out):
                for d in labels:
                    logits[i, index[d["label"]]] = d["score"]
            return logits

        paths = {
            "(p) HF pipeline fp32, 1 window": hf,
            "(a) newstag fp32, 1 window": newstag("fp32", 1),
            "(b) newstag bf16, 1 window": newstag("bf16", 1),
            "(c) newstag int8, 1 window": newstag("int8", 1),
            "(d) newstag fp32, all windows": newstag("fp32", None),
            "(e) newstag bf16, all windows": newstag("bf16", None),
            "(f) newstag int8, all windows": newstag("int8", None),
            "(g) newstag fp32, all windows, evidence": newstag("fp32", None, evidence=True),
        }
        seconds = {k: float("inf") for k in paths}
        results = {}
        for fn in paths.values():
            fn(arts[:WARMUP])
        for rep in range(args.repeats):
            for key, fn in paths.items():
                t0 = time.perf_counter()
                results[key] = fn(arts)
                seconds[key] = min(seconds[key], time.perf_counter() - t0)
                print(f"  pass {rep + 1}: {key}: {n / (time.perf_counter() - t0):.2f} articles/s", flush=True)

        tok = base.tokenizer
        full_tokens = np.array([len(ids) for ids in tok([a[0] for a in arts], [a[1] for a in arts])["input_ids"]])
        win = encode_windows(tok, [a[0] for a in arts], [a[1] for a in arts], base.max_length, base.stride)
        n_windows = np.bincount(win.article, minlength=n)
        series = {}
        for kind in ("fp32", "bf16"):
            taggers[kind].max_windows = None
            buckets = []
            for idx in np.array_split(np.argsort(full_tokens, kind="stable"), min(args.buckets, n)):
                items = [arts[i] for i in idx]
                t0 = time.perf_counter()
                list(taggers[kind].pipe(items, batch_size=bs, evidence=False))
                buckets.append({"mean_tokens": float(full_tokens[idx].mean()),
                                "mean_windows": float(n_windows[idx].mean()),
                                "s_per_article": (time.perf_counter() - t0) / len(idx)})
            series[f"Tagger.pipe {kind}"] = buckets

    # scores (calibrated, as the tagger reports them) and decisions per row
    topics = base.topics
    scores = {}
    for key, res in results.items():
        if isinstance(res, np.ndarray):
            scores[key] = scores_from_logits(res, base)
        else:
            scores[key] = np.array([[r.topic_scores[t] for t in topics] for r in res], dtype=np.float32)
    decisions = {k: s >= base.thresholds for k, s in scores.items()}
    stance = {k: [r.stance for r in res] for k, res in results.items() if not isinstance(res, np.ndarray)}
    gold = None
    if gold_names is not None and all(t in topics for names in gold_names for t in names):
        gold = np.array([[t in names for t in topics] for names in gold_names])
    rate = {k: n / s for k, s in seconds.items()}
    p = "(p) HF pipeline fp32, 1 window"
    metrics: dict[str, float | int | str] = {
        "articles": n, "source": source, "model": str(model_dir), "threads": args.threads, "batch_size": bs,
        "repeats (best counts)": args.repeats, "max_length": base.max_length,
        "tokens per article (mean, untruncated)": round(float(full_tokens.mean()), 1),
        "windows per article (mean)": round(float(n_windows.mean()), 2),
    }
    for key in paths:
        metrics[f"{key} articles/s"] = round(rate[key], 2)
    for key in paths:
        if key != p:
            metrics[f"ratio {key[:3]}/(p)"] = round(rate[key] / rate[p], 3)
    # agreement: (a) against the pipeline (must be identical), the others against fp32 with the same windows
    for key, ref in (("(a) newstag fp32, 1 window", p), ("(b) newstag bf16, 1 window", "(a) newstag fp32, 1 window"),
                     ("(c) newstag int8, 1 window", "(a) newstag fp32, 1 window"),
                     ("(e) newstag bf16, all windows", "(d) newstag fp32, all windows"),
                     ("(f) newstag int8, all windows", "(d) newstag fp32, all windows"),
                     ("(g) newstag fp32, all windows, evidence", "(d) newstag fp32, all windows")):
        same = np.mean(np.all(decisions[key] == decisions[ref], axis=1))
        metrics[f"{key[:3]} vs {ref[:3]} identical topic sets"] = round(float(same), 4)
        metrics[f"{key[:3]} vs {ref[:3]} max abs score diff"] = round(float(np.abs(scores[key] - scores[ref]).max()), 5)
        if key in stance and ref in stance:
            metrics[f"{key[:3]} vs {ref[:3]} identical stance"] = round(
                float(np.mean([a == b for a, b in zip(stance[key], stance[ref], strict=True)])), 4)
    if gold is not None:
        for key in paths:
            metrics[f"{key[:3]} topic micro-F1 vs gold"] = round(micro_f1(decisions[key], gold), 4)
        for low, ref in (("(b)", "(a)"), ("(c)", "(a)"), ("(e)", "(d)"), ("(f)", "(d)")):
            a, b = metrics[f"{low} topic micro-F1 vs gold"], metrics[f"{ref} topic micro-F1 vs gold"]
            metrics[f"{low} - {ref} micro-F1 points"] = round(100 * (a - b), 2)
    else:
        metrics["topic micro-F1 vs gold"] = "no gold topics in the model's schema"
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics["benchmark wall s"] = round(time.perf_counter() - started, 1)

    print(f"{n} articles from {source}: {metrics['tokens per article (mean, untruncated)']} tokens and "
          f"{metrics['windows per article (mean)']} windows of {base.max_length} per article; "
          f"{args.threads} threads, batch {bs}")
    width = max(len(k) for k in metrics)
    for k, v in metrics.items():
        print(f"  {k:<{width}}  {v}")
    print("  cost by length (bucket mean tokens -> ms/article):")
    for label, buckets in series.items():
        print(f"    {label}: " + ", ".join(f"{b['mean_tokens']:.0f} tok {1000 * b['s_per_article']:.1f} ms"
                                           for b in buckets))
    if args.no_record:
        print("(--no-record: nothing written)")
        return 0
    png = PLOTS / "tag_cost.png"
    plot_cost(series, base.max_length, png)
    record(NAME, metrics, plots=[png])
    print(f"recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md; plot {png.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
