"""Training throughput of newstag-train against a plain ``transformers.Trainer``: ``python -m benchmarks.bench_train_speed``.

Example:
    python -m benchmarks.bench_train_speed                # 3 epochs on the sample, about 10 minutes on 2 cores
    python -m benchmarks.bench_train_speed --corpus bbc --limit 1000 --epochs 2    # BBC News articles
    python -m benchmarks.bench_train_speed --corpus bbc --limit 700 --epochs 2 --plain-epochs 6  # plain run to convergence
    python -m benchmarks.bench_train_speed --epochs 1 --max_steps 4 --batch_size 8 --no-record   # a smoke run

The dataset is built (in-process, not timed) from ``data/sample`` with its gold labels, or with ``--corpus bbc``
from ``SHARED/corpora/bbc-news`` (``--limit`` a seeded random subset; the 5 categories as topics, as in
``bench_bbc``). Runs on its train split, with the same base model (the bundled all-MiniLM-L6-v2), epochs,
learning rate, batch size, max_length (256) and seed:

1. plain: ``AutoModelForSequenceClassification`` (``problem_type="multi_label_classification"``, one output
   per topic) on ``title + "\\n" + text`` tokenized with ``padding="max_length", truncation=True``, random
   sampler, ``TrainingArguments`` defaults otherwise; timed from loading the model to the end of training;
2. newstag: ``newstag-train --bf16 false`` (``training.train.main`` in-process) with the config's defaults otherwise
   (linear-probe start, windows, dynamic padding, length grouping, per-epoch validation and checkpoints,
   calibration, test evaluation, saving); the whole call is timed;
3. newstag with ``--bf16 true`` (bf16 autocast, also on CPU), reading every window (up to ``max_windows``);
4. the same with ``--max_windows 1``: the plain run's tokens (the first window), for a like-for-like ratio.

Both are evaluated on the validation split after each epoch (topic micro-F1 at probability 0.5; newstag:
max over windows, plain: sigmoid >= 0.5) and an ``EpochClock`` callback notes the training seconds reached at
each evaluation (evaluation and checkpoint saving left out; newstag's linear-probe start, run before
``Trainer.train``, added). Reported per run: articles per second over the whole timed call and over
``Trainer.train`` alone, the ratios to the plain run, the validation F1 per epoch, and **time to target**:
the training seconds each run needed to first reach ``target`` = the lowest of the runs' best validation F1
minus 0.5 points, and the plain run's time over each newstag run's (the speed-up at equal validation F1).
``--plain-epochs`` lets the plain run train longer than newstag's ``--epochs`` (its own linear schedule over
them), so that the target sits where the plain run converges, not where it happened to stop.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from transformers import TrainerCallback

from .common_train import (
    LABELS,
    SAMPLE,
    SAMPLE_GOLD,
    build,
    dataset_rows,
    f1_pair,
    multi_hot,
    parser,
    report,
    resolved_config,
    settings,
    train,
)
from .results import shared_dir, skip_if_missing

NAME = "bench_train_speed"


def plain_run(rows: dict[str, list[dict]], topics: list[str], cfg, out: Path, epochs: float) -> dict:
    """Fine-tune a plain sequence classifier with ``Trainer``; throughput and validation micro-F1 at 0.5."""
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        set_seed,
    )

    from inference.model import default_base_model

    def encode(split):
        enc = tokenizer([f"{r['title']}\n{r['text']}" for r in rows[split]], padding="max_length", truncation=True,
                        max_length=cfg.max_length)
        labels = multi_hot([r["topics"] for r in rows[split]], topics).astype(np.float32)
        return Dataset.from_dict({**enc, "labels": labels.tolist()})

    base = cfg.base_model or default_base_model()
    set_seed(cfg.seed)
    start = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, problem_type="multi_label_classification",
                                                               num_labels=len(topics))
    args = TrainingArguments(output_dir=str(out), num_train_epochs=epochs, max_steps=cfg.max_steps,
                             learning_rate=cfg.learning_rate, per_device_train_batch_size=cfg.batch_size,
                             seed=cfg.seed, train_sampling_strategy="random", report_to="none",
                             eval_strategy="epoch", save_strategy="no")
    truth = multi_hot([r["topics"] for r in rows["validation"]], topics)

    def val_f1(pred):
        return {"topic_micro_f1": f1_pair(truth, (pred.predictions >= 0).astype(int))[0]}  # sigmoid >= 0.5

    clock = EpochClock()
    trainer = Trainer(model=model, args=args, train_dataset=encode("train"), eval_dataset=encode("validation"),
                      compute_metrics=val_f1, callbacks=[clock])
    result = trainer.train()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "samples": result.metrics["train_samples_per_second"] * result.metrics["train_runtime"],
            "trainer_rate": result.metrics["train_samples_per_second"], "val_micro_f1": clock.points[-1]["f1"],
            "curve": clock.points}


class EpochClock(TrainerCallback):
    """A ``TrainerCallback`` noting, at each evaluation, the training seconds so far and the F1.

    Training seconds run from ``on_train_begin``; the time from an epoch's end to the end of its evaluation and
    checkpoint saving is left out.
    """

    def __init__(self):
        self.points: list[dict] = []
        self.start = self.mark = 0.0
        self.paused = 0.0

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_epoch_end(self, args, state, control, **kwargs):
        self.mark = time.perf_counter()
        self.points.append({"epoch": round(state.epoch, 3),
                            "train_s": round(self.mark - self.start - self.paused, 1), "f1": None})

    def _pause(self):
        now = time.perf_counter()
        self.paused += now - self.mark
        self.mark = now

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self._pause()
        if self.points and metrics:
            self.points[-1]["f1"] = metrics.get("eval_topic_micro_f1")

    def on_save(self, args, state, control, **kwargs):
        self._pause()


def time_to(curve: list[dict], target: float) -> float | None:
    """Training seconds at the first evaluation that reached ``target``; None if none did."""
    return next((p["train_s"] for p in curve if p["f1"] is not None and p["f1"] >= target), None)


def newstag_run(data: Path, out: Path, args, **fixed) -> dict:
    """newstag-train, timed; throughput from its Trainer figures, validation micro-F1 per epoch from its log."""
    clock = EpochClock()
    run = train(data, out, args, callbacks=[clock], **fixed)
    probe_s = json.loads((out / "train_metrics.json").read_text()).get("linear_probe", {}).get("seconds", 0.0)
    curve = [p | {"train_s": round(p["train_s"] + probe_s, 1)} for p in clock.points]
    rate, runtime = run.tagger["train_samples_per_second"], run.tagger["train_runtime_s"]
    return {"seconds": run.seconds, "samples": rate * runtime, "trainer_rate": rate,
            "val_micro_f1": curve[-1]["f1"] if curve else float("nan"), "curve": curve, "probe_s": probe_s,
            "bf16": run.tagger["bf16"]}


def main(argv=None) -> int:
    p = parser(NAME, __doc__, epochs=3.0, max_length=256)
    p.add_argument("--corpus", choices=("sample", "bbc"), default="sample",
                   help="data/sample (default) or SHARED/corpora/bbc-news")
    p.add_argument("--plain-epochs", type=float,
                   help="epochs of the plain Trainer run (default: --epochs); more lets it converge")
    args = p.parse_args(argv)
    csv_path = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if args.corpus == "sample" and not SAMPLE.is_dir():
        print(f"skipped: {SAMPLE} not found")
        return 0
    if args.corpus == "bbc" and skip_if_missing([csv_path]):
        return 0
    cfg = resolved_config(args)
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench_train_speed_") as tmp:
        tmp = Path(tmp)
        if args.corpus == "bbc":
            from .bench_bbc import convert

            labels, inputs, gold, _, _ = convert(csv_path, tmp, args.limit)
            data = build([inputs], tmp / "dataset", labels=labels, gold=gold)
            fixed = {"stance_loss_weight": 0}
        else:
            data = build([SAMPLE], tmp / "dataset", labels=LABELS, gold=SAMPLE_GOLD)
            fixed = {}
        rows = dataset_rows(data)
        topics = [t["name"] for t in json.loads((data / "schema.json").read_text())["topics"]]
        plain_epochs = args.plain_epochs if args.plain_epochs is not None else cfg.epochs
        runs["plain Trainer"] = plain_run(rows, topics, cfg, tmp / "plain", plain_epochs)
        runs["newstag fp32"] = newstag_run(data, tmp / "newstag", args, bf16="false", **fixed)
        runs["newstag bf16"] = newstag_run(data, tmp / "newstag-bf16", args, bf16="true", **fixed)
        runs["newstag bf16, 1 window"] = newstag_run(data, tmp / "newstag-bf16-1", args, bf16="true", max_windows=1,
                                                     **fixed)

    plain = runs["plain Trainer"]
    target = min(max((p["f1"] or 0.0) for p in r["curve"]) for r in runs.values()) - 0.005
    metrics: dict = {"corpus": args.corpus, "train articles": len(rows["train"]),
                     "validation articles": len(rows["validation"]), **settings(cfg), "plain epochs": plain_epochs,
                     "target validation micro-F1 (lowest best - 0.5 points)": round(target, 4)}
    print(f"{len(rows['train'])} train / {len(rows['validation'])} validation articles of {args.corpus}; "
          f"{cfg.epochs:g} epochs (plain: {plain_epochs:g}), batch {cfg.batch_size}, lr {cfg.learning_rate:g}, max_length {cfg.max_length}")
    plain_to = time_to(plain["curve"], target)
    for name, r in runs.items():
        rate = r["samples"] / r["seconds"]
        reached = time_to(r["curve"], target)
        metrics.update({f"{name} articles/s (whole call)": round(rate, 3),
                        f"{name} articles/s (Trainer.train)": round(r["trainer_rate"], 3),
                        f"{name} wall s": round(r["seconds"], 1),
                        f"{name} validation topic micro-F1 at 0.5": r["val_micro_f1"],
                        f"{name} validation F1 per epoch": " ".join(f"{p['f1']:.4f}@{p['train_s']:g}s"
                                                                    for p in r["curve"] if p["f1"] is not None),
                        f"{name} training s to target": reached if reached is not None else "not reached"})
        if name != "plain Trainer":
            metrics[f"{name} / plain articles/s (whole call)"] = round(rate / (plain["samples"] / plain["seconds"]), 3)
            metrics[f"{name} / plain articles/s (Trainer.train)"] = round(r["trainer_rate"] / plain["trainer_rate"], 3)
            metrics[f"{name}: linear probe s"] = r["probe_s"]
            metrics[f"{name}: bf16 used"] = str(r["bf16"])
            if reached and plain_to:
                metrics[f"plain / {name} training s to target (speed-up at equal F1)"] = round(plain_to / reached, 3)
    report(NAME, metrics, args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
