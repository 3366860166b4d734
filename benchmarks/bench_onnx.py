"""PyTorch against onnxruntime on this CPU: ``python -m benchmarks.bench_onnx --model DIR [--shared PATH]``.

Example:
    python -m benchmarks.bench_onnx --model runs/demo/model             # after make demo; BBC News articles
    python -m benchmarks.bench_onnx --model runs/demo/model --n 64 --no-record

Side by side in one run, same threads, same model folder: torch fp32 (the reference), torch bf16
(``half=True``), torch int8 (``quantize="int8"``), onnxruntime fp32 and onnxruntime int8 (graphs written by
``inference.onnx_model.export_graph``, as ``newstag-export --onnx [--int8]`` writes them; here without the
parity refusal, so a path that disagrees is still timed and its disagreement reported).

1. The forward pass alone at ``--batch`` windows of ``--length`` tokens (default 32 x 256: the length-sorted
   windows of the longest articles), best of ``--repeats`` interleaved passes.
2. ``Tagger.pipe`` end to end over the articles (every window, evidence on), best of ``--repeats``.

Agreement with torch fp32 on the articles: identical topic sets (the model's thresholds), identical stance,
largest calibrated score difference. The fastest path and each one's speed-up over torch fp32 are reported.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .results import benchmark_parser, finish, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_onnx"


def parse_args(argv=None) -> argparse.Namespace:
    p = benchmark_parser("bench_onnx", __doc__)
    p.add_argument("--model", required=True, help="model folder written by newstag-train")
    p.add_argument("--articles", help="JSONL of title and text (default: the BBC News CSV in the shared corpora)")
    p.add_argument("--n", type=int, default=200, help="articles for Tagger.pipe and agreement (default 200)")
    p.add_argument("--batch", type=int, default=32, help="windows per forward pass (default 32)")
    p.add_argument("--length", type=int, default=256, help="tokens per window of the forward timing (default 256)")
    p.add_argument("--threads", type=int, default=2, help="torch and onnxruntime intra-op threads")
    p.add_argument("--repeats", type=int, default=3, help="interleaved timed passes; the best counts")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not args.articles and skip_if_missing([shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"]):
        return 0
    import torch
    from transformers.utils import logging as hf_logging

    from inference import Tagger
    from inference.onnx_model import OnnxTaggerModel, export_graph, head_weights, session
    from inference.scores import probabilities
    from inference.windows import encode_windows, pad_batch

    from .bench_tag import read_articles

    hf_logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    arts, _, source = read_articles(args)
    model_dir = Path(args.model)
    taggers = {"torch fp32": Tagger.from_pretrained(model_dir, device="cpu", backend="torch"),
               "torch bf16": Tagger.from_pretrained(model_dir, device="cpu", half=True, backend="torch"),
               "torch int8": Tagger.from_pretrained(model_dir, device="cpu", quantize="int8", backend="torch")}
    base = taggers["torch fp32"]
    with tempfile.TemporaryDirectory(prefix="bench_onnx_") as tmp:
        export_s = {}
        for kind, int8 in (("fp32", False), ("int8", True)):
            graph = Path(tmp) / f"{kind}.onnx"
            t0 = time.perf_counter()
            info = export_graph(copy.deepcopy(base.model), graph, int8=int8)
            export_s[kind] = round(time.perf_counter() - t0, 1)
            model = OnnxTaggerModel(session(graph, args.threads), head_weights(graph))
            taggers[f"onnxruntime {kind}"] = Tagger(model, base.tokenizer, copy.deepcopy(base.config), device="cpu")
        fused = ", ".join(info["fused"]) or "nothing"
        for tg in taggers.values():
            tg.boilerplate = set()  # every path reads the same text

        # 1. the forward pass alone on the longest windows
        win = encode_windows(base.tokenizer, [a[0] for a in arts], [a[1] for a in arts], args.length, base.stride)
        longest = sorted(win.input_ids, key=len)[-args.batch:]
        ids, mask = pad_batch(longest, base.tokenizer.pad_token_id or 0, multiple_of=32)
        forward_s = {k: float("inf") for k in taggers}
        pipe_s = {k: float("inf") for k in taggers}
        results = {}

        def forward(tg):
            with torch.inference_mode():
                _, pooled = tg.model.encode(ids, mask)
                return tg.model.heads(pooled)

        for tg in taggers.values():  # warm-up: kernels, shapes
            forward(tg)
            list(tg.pipe(arts[:8], batch_size=args.batch))
        for rep in range(args.repeats):
            for key, tg in taggers.items():
                t0 = time.perf_counter()
                forward(tg)
                forward_s[key] = min(forward_s[key], time.perf_counter() - t0)
                t0 = time.perf_counter()
                results[key] = list(tg.pipe(arts, batch_size=args.batch))
                pipe_s[key] = min(pipe_s[key], time.perf_counter() - t0)
                print(f"  pass {rep + 1}: {key}: forward {forward_s[key]:.2f} s, pipe "
                      f"{len(arts) / pipe_s[key]:.2f} articles/s", flush=True)

        scores = {}
        for key, tg in taggers.items():
            topic, stance, _ = tg.logits(arts, batch_size=args.batch)
            scores[key] = probabilities(topic, stance, base.topic_temperature, base.stance_temperature)

    ref_t, ref_s = scores["torch fp32"]
    limits = base.resolve_thresholds()
    metrics: dict = {"model": str(model_dir), "articles": len(arts), "source": source, "threads": args.threads,
                     "forward batch": f"{len(longest)} x {ids.shape[1]} tokens", "repeats (best counts)": args.repeats,
                     "onnx export s (fp32 / int8)": f"{export_s['fp32']} / {export_s['int8']}",
                     "onnxruntime fusions": fused}
    for key in taggers:
        metrics[f"{key} forward s"] = round(forward_s[key], 3)
    for key in taggers:
        metrics[f"{key} forward speed-up"] = round(forward_s["torch fp32"] / forward_s[key], 3)
    for key in taggers:
        metrics[f"{key} Tagger.pipe articles/s"] = round(len(arts) / pipe_s[key], 2)
    for key in taggers:
        metrics[f"{key} Tagger.pipe speed-up"] = round(pipe_s["torch fp32"] / pipe_s[key], 3)
    for key in taggers:
        if key == "torch fp32":
            continue
        t, s = scores[key]
        metrics[f"{key} identical topic sets"] = round(float(np.all((t >= limits) == (ref_t >= limits), 1).mean()), 4)
        metrics[f"{key} identical stance"] = round(float((s.argmax(1) == ref_s.argmax(1)).mean()), 4)
        metrics[f"{key} max abs score diff"] = round(float(max(np.abs(t - ref_t).max(), np.abs(s - ref_s).max())), 5)
        same_ev = [a.evidence == b.evidence for ra, rb in zip(results[key], results["torch fp32"])
                   for a, b in zip(ra.topics, rb.topics) if a.name == b.name]
        metrics[f"{key} identical evidence"] = round(float(np.mean(same_ev)), 4) if same_ev else "no shared topic"
    metrics["fastest forward"] = min(forward_s, key=forward_s.get)
    metrics["fastest Tagger.pipe"] = min(pipe_s, key=pipe_s.get)
    metrics["load average at start / end"] = f"{load0:.2f} / {os.getloadavg()[0]:.2f}"
    metrics["benchmark wall s"] = round(time.perf_counter() - started, 1)
    return finish(NAME, metrics, args.no_record)


if __name__ == "__main__":
    sys.exit(main())
