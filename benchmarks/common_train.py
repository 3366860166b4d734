"""What the training benchmarks share: size flags, newstag's own build and train commands run in-process
(the train call timed), converted inputs, and the TF-IDF + linear SVM baseline.

Used by ``bench_reuters``, ``bench_bbc``, ``bench_seeds`` and ``bench_train_speed``.

Example:
    >>> run = train(data, tmp / "model", args, stance_loss_weight=0)
    >>> run.seconds, run.metrics["topic_micro_f1"]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .results import REPO, benchmark_parser, record

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CONFIG = REPO / "configs" / "train.yaml"
LABELS = REPO / "configs" / "labels.yaml"
SAMPLE = REPO / "data" / "sample"
SAMPLE_GOLD = SAMPLE / "labels.jsonl"
# the schema's rule for a label name (inference/schema.py): a letter, then letters, digits, '_' or '-'
LABEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


# ---- command line ------------------------------------------------------------------------------------------
def parser(name: str, doc: str, limit: bool = True, epochs: float | None = None,
           max_length: int | None = None, config: Path | None = None) -> argparse.ArgumentParser:
    """The common flags: ``--shared``, ``--no-record``, ``--config``, the training overrides, ``--limit``.

    Training flags left out keep the config's value; each also has its newstag spelling (``--max_steps``).
    """
    p = benchmark_parser(name, doc)
    p.add_argument("--config", default=str(config or CONFIG),
                   help=f"newstag-train config (default {config.relative_to(REPO).as_posix()})" if config else
                   "newstag-train config (default configs/train.yaml; configs/train-gpu.yaml on a GPU)")
    p.add_argument("--epochs", type=float, default=epochs,
                   help=f"newstag-train --epochs (default: {epochs or 'the config value'})")
    p.add_argument("--lr", "--learning-rate", "--learning_rate", dest="lr", type=float,
                   help="newstag-train --learning_rate (default: the config value)")
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int,
                   help="newstag-train --batch_size (default: the config value)")
    p.add_argument("--max-length", "--max_length", dest="max_length", type=int, default=max_length,
                   help=f"newstag-train --max_length (default: {max_length or 'the config value'})")
    p.add_argument("--max-steps", "--max_steps", dest="max_steps", type=int,
                   help="newstag-train --max_steps: stop after this many optimizer steps (smoke runs)")
    p.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE",
                   help="any other newstag-train override, e.g. --set max_windows=2 (repeatable)")
    if limit:
        p.add_argument("--limit", type=int,
                       help="use a seeded random N documents of each input split (smoke runs); default: all")
    return p


def overrides(args: argparse.Namespace, **fixed) -> list[str]:
    """``--key value`` overrides for newstag-train: the benchmark's fixed settings, then the size flags."""
    values = dict(fixed)
    for key, flag in (("epochs", "epochs"), ("lr", "learning_rate"), ("batch_size", "batch_size"),
                      ("max_length", "max_length"), ("max_steps", "max_steps")):
        if getattr(args, key, None) is not None:
            values[flag] = getattr(args, key)
    for item in getattr(args, "extra", []):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE, e.g. --set max_windows=2")
        values[key.replace("-", "_")] = value
    return [x for key, value in values.items() for x in (f"--{key}", str(value))]


def resolved_config(args: argparse.Namespace, **fixed):
    """The ``TrainConfig`` newstag-train will run with (config file plus overrides)."""
    from training.trainer.config import load_config

    return load_config(args.config, overrides(args, **fixed))


# ---- inputs (converted before anything is timed) -----------------------------------------------------------
def sample_rows(rows: list, limit: int | None, seed: int = 0) -> list:
    """A seeded random ``limit`` rows in their original order; all rows when ``limit`` is None."""
    if limit is None or limit >= len(rows):
        return rows
    keep = set(random.Random(seed).sample(range(len(rows)), limit))
    return [r for i, r in enumerate(rows) if i in keep]


def label_name(raw: str) -> str:
    """A corpus category as a valid schema label name: other characters become '_', a leading non-letter gets 't_'."""
    name = re.sub(r"[^A-Za-z0-9_\-]", "_", raw.strip())
    return name if LABEL_NAME.match(name) else f"t_{name}"


def label_names(categories: Iterable[str]) -> dict[str, str]:
    """Category -> schema label name, refusing two categories that would map to one name."""
    names = {c: label_name(c) for c in categories}
    if len(set(names.values())) != len(names):
        raise SystemExit(f"two categories map to one label name: {sorted(names.items())}")
    return names


def write_schema(path: Path, topics: Sequence[str], stances: Sequence[str] = ("none",), note: str = "") -> Path:
    """A labels YAML with the given topics and stances and no rules (gold labels supply every label)."""
    import yaml

    doc = {"version": 1,
           "topics": [{"name": t, "description": f"{note} category {t}".strip()} for t in topics],
           "stances": [{"name": s, "description": "no stance annotated"} for s in stances],
           "default_stance": stances[0], "rules": []}
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Iterable[dict]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


# ---- newstag's commands, in-process ------------------------------------------------------------------------
def build(inputs: Sequence[str | Path], out: Path, *flags: str, labels: Path = LABELS, gold: Path | None = None) -> Path:
    """``newstag-build INPUTS -o OUT --labels ... [--gold ...] FLAGS --no-plots`` via ``training.build.main``."""
    from training.build import main as build_main

    argv = [*map(str, inputs), "-o", str(out), "--labels", str(labels), "--no-plots", *flags]
    if gold:
        argv += ["--gold", str(gold)]
    rc = build_main(argv)
    if rc:
        raise SystemExit(f"newstag-build failed (exit {rc}): newstag-build {' '.join(argv)}")
    return out


def build_sample_plus(articles: Sequence[dict], tmp: Path, name: str, labels: Path = LABELS) -> Path:
    """``newstag-build`` the bundled sample plus hand-labeled ``articles`` (``id``, ``title``, ``text``, ``topics``,
    ``stance``), one gold file holding the sample's labels and theirs, as an analyst's corrections reach the next
    build; the inputs and the dataset go to ``tmp`` under ``name``. Returns the dataset folder."""
    inputs = write_jsonl(tmp / f"{name}_articles.jsonl",
                         ({"id": a["id"], "title": a["title"], "text": a["text"]} for a in articles))
    gold = tmp / f"{name}_gold.jsonl"
    gold.write_text(SAMPLE_GOLD.read_text(encoding="utf-8").rstrip("\n") + "\n" + "".join(
        json.dumps({"id": a["id"], "topics": a["topics"], "stance": a["stance"]}) + "\n" for a in articles),
        encoding="utf-8")
    return build([SAMPLE, inputs], tmp / f"{name}_data", labels=labels, gold=gold)


@dataclass
class TrainRun:
    model: Path
    seconds: float  # wall time of the whole newstag-train call
    metrics: dict  # the model folder's metrics.json (test split, tuned thresholds); {} without a test split
    tagger: dict  # its tagger.json


def train(data: Path, out: Path, args: argparse.Namespace, callbacks: Sequence = (), **fixed) -> TrainRun:
    """Time ``newstag-train --data DATA -o OUT --config CONFIG --key value ...`` via ``training.train.main``.

    Args:
        fixed: the benchmark's settings (``stance_loss_weight=0``); the size flags of ``args`` override them.
        callbacks: ``TrainerCallback`` objects added to newstag's Trainer (per-epoch validation scores).
    """
    from training.train import main as train_main

    argv = ["--data", str(data), "-o", str(out), "--config", args.config, "--resume", "never",
            *overrides(args, **fixed)]
    print(f"newstag-train {' '.join(argv)}", flush=True)
    start = time.perf_counter()
    rc = train_main(argv, callbacks=callbacks)
    seconds = time.perf_counter() - start
    if rc:
        raise SystemExit(f"newstag-train failed (exit {rc}): newstag-train {' '.join(argv)}")
    metrics_file = out / "metrics.json"
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    return TrainRun(out, seconds, metrics, json.loads((out / "tagger.json").read_text(encoding="utf-8")))


def dataset_rows(data: Path) -> dict[str, list[dict]]:
    """The saved dataset's rows per split (``train``, ``validation``, ``test``)."""
    from datasets import load_from_disk

    return {split: list(ds) for split, ds in load_from_disk(str(data)).items()}


# ---- the TF-IDF + linear SVM baseline ----------------------------------------------------------------------
def svm_scores(train_texts: list[str], train_labels: list[Sequence[str]], test_texts: list[str],
               classes: Sequence[str]) -> tuple:
    """TF-IDF (sublinear tf, word 1-2 grams) + one-vs-rest LinearSVC (C=1), the classic text baseline.

    Returns:
        The test decision scores (documents x ``classes``) and the fit-and-score seconds.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    start = time.perf_counter()
    vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))
    y = MultiLabelBinarizer(classes=list(classes)).fit_transform(train_labels)
    present = y.sum(0) > 0  # a category without training documents is never predicted
    clf = OneVsRestClassifier(LinearSVC(C=1.0)).fit(vec.fit_transform(train_texts), y[:, present])
    scores = np.full((len(test_texts), len(classes)), -1e9)
    scores[:, present] = clf.decision_function(vec.transform(test_texts)).reshape(len(test_texts), -1)
    return scores, time.perf_counter() - start


def multi_hot(labels: Sequence[Sequence[str]], classes: Sequence[str]):
    import numpy as np

    index = {c: j for j, c in enumerate(classes)}
    y = np.zeros((len(labels), len(classes)), dtype=int)
    for i, names in enumerate(labels):
        for name in names:
            y[i, index[name]] = 1
    return y


def f1_pair(y_true, y_pred) -> tuple[float, float]:
    """(micro-F1, macro-F1) over the label columns, sklearn's definitions."""
    from sklearn.metrics import f1_score

    return (float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
            float(f1_score(y_true, y_pred, average="macro", zero_division=0)))


# ---- output --------------------------------------------------------------------------------------------------
def report(name: str, metrics: dict, no_record: bool) -> None:
    """Print the figures, then record them (``benchmarks/results.jsonl`` and ``RESULTS.md``) unless told not to."""
    width = max(len(k) for k in metrics)
    for k, v in metrics.items():
        print(f"  {k:<{width}}  {f'{v:.4g}' if isinstance(v, float) else v}")
    if no_record:
        print("(--no-record: nothing written)")
        return
    record(name, metrics)
    print("recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md")


def settings(cfg) -> dict:
    """The training settings that shape a figure, for the record."""
    return {"epochs": cfg.epochs, "learning_rate": cfg.learning_rate, "head_learning_rate": cfg.head_learning_rate,
            "batch_size": cfg.batch_size, "max_length": cfg.max_length, "max_windows": cfg.max_windows,
            "topic_pos_weight": cfg.topic_pos_weight, "head_init": cfg.head_init, "bf16": cfg.bf16,
            "max_steps": cfg.max_steps, "seed": cfg.seed}
