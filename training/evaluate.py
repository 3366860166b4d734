"""Score a saved model on a labeled dataset: ``newstag-eval MODEL_DIR DATASET_DIR [--split test]``.

Example:
    newstag-eval runs/demo/model runs/demo/dataset

Writes ``metrics.json`` and ``report.md`` with PNG plots (per-topic scores, stance confusion matrix,
precision-recall and reliability curves). Where the dataset has hand labels, the weak labels of the
rules are scored on the same articles, so the report shows what the model adds over the rules.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from inference.errors import NewstagError, cli_errors
from inference.model import TAGGER_FILE
from inference.tagger import Tagger

from . import plots
from .metrics import fit_temperature, score, sigmoid, softmax, stance_ece, topic_ece, tune_thresholds


def _targets(rows, topics, stances, gold_only=False):
    y = np.array([[t in (r["gold_topics"] if gold_only else r["topics"]) for t in topics] for r in rows], dtype=int)
    s = np.array([stances.index(r["gold_stance"] if gold_only else r["stance"]) for r in rows], dtype=int)
    return y.reshape(-1, len(topics)), s


def calibrate_and_tune(model_dir: Path, val, cfg) -> dict:
    """Fit temperatures and per-topic thresholds on the validation split; write them into tagger.json."""
    tagger = Tagger.from_pretrained(model_dir)
    rows = list(val)
    t_logits, s_logits, _ = tagger.logits([(r["title"], r["text"]) for r in rows], batch_size=cfg.eval_batch_size)
    y, s = _targets(rows, tagger.topics, tagger.stances)
    t_temp = fit_temperature(t_logits, y.astype(float), multilabel=True) if cfg.calibrate else 1.0
    s_temp = fit_temperature(s_logits, s, multilabel=False) if cfg.calibrate else 1.0
    before = {"topic_ece": topic_ece(sigmoid(t_logits), y), "stance_ece": stance_ece(softmax(s_logits), s)}
    probs = sigmoid(t_logits / t_temp)
    after = {"topic_ece": topic_ece(probs, y), "stance_ece": stance_ece(softmax(s_logits / s_temp), s)}
    thresholds = tune_thresholds(probs, y, cfg.min_positives_for_threshold) if cfg.tune_thresholds \
        else [0.5] * len(tagger.topics)
    path = model_dir / TAGGER_FILE
    conf = json.loads(path.read_text(encoding="utf-8"))
    conf["temperature"] = {"topic": t_temp, "stance": s_temp}
    conf["thresholds"] = dict(zip(tagger.topics, thresholds))
    conf["calibration"] = {"validation_examples": len(rows), "before": before, "after": after}
    path.write_text(json.dumps(conf, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return conf["calibration"] | {"thresholds": conf["thresholds"], "temperature": conf["temperature"]}


def evaluate_split(model_dir: Path, rows_ds, out_dir: Path, split_name: str = "test", batch_size: int = 64) -> dict:
    """Tag the split with the saved model, score it against its labels, write metrics, plots and report."""
    tagger = Tagger.from_pretrained(model_dir)
    rows = list(rows_ds)
    if not rows:
        raise NewstagError(f"the {split_name} split is empty; nothing to evaluate")
    unknown = {t for r in rows for t in r["topics"]} - set(tagger.topics)
    if unknown:
        raise NewstagError(f"the dataset has topics the model does not know ({', '.join(sorted(unknown))}); "
                           "evaluate on a dataset built with the model's schema")
    t_logits, s_logits, windows = tagger.logits([(r["title"], r["text"]) for r in rows], batch_size=batch_size)
    probs = sigmoid(t_logits / tagger.topic_temperature)
    sprobs = softmax(s_logits / tagger.stance_temperature)
    pred = (probs >= tagger.thresholds[None, :]).astype(int)
    spred = sprobs.argmax(1)
    y, s = _targets(rows, tagger.topics, tagger.stances)
    metrics = score(pred, y, spred, s, tagger.topics, tagger.stances)
    at_half = score((probs >= 0.5).astype(int), y, spred, s, tagger.topics, tagger.stances)
    metrics["thresholds_0.5"] = {k: at_half[k] for k in ("topic_micro_f1", "topic_macro_f1")}  # what tuning bought
    metrics.update(split=split_name, topic_ece=topic_ece(probs, y), stance_ece=stance_ece(sprobs, s),
                   windows_per_article=float(np.mean(windows)), model=str(model_dir))
    gold = [i for i, r in enumerate(rows) if r.get("gold")]
    if gold:  # model and rules side by side on the hand-labeled articles
        g_rows = [rows[i] for i in gold]
        gy, gs = _targets(g_rows, tagger.topics, tagger.stances, gold_only=True)
        weak_y = np.array([[t in r["weak_topics"] for t in tagger.topics] for r in g_rows], dtype=int)
        weak_s = np.array([tagger.stances.index(r["weak_stance"]) for r in g_rows])
        metrics["gold"] = {"examples": len(gold),
                           "model": _brief(score(pred[gold], gy, spred[gold], gs, tagger.topics, tagger.stances)),
                           "weak_labels": _brief(score(weak_y, gy, weak_s, gs, tagger.topics, tagger.stances))}
    out_dir.mkdir(parents=True, exist_ok=True)
    plots.per_topic(metrics, out_dir / "per_topic.png")
    plots.confusion(metrics["stance_confusion"], tagger.stances, out_dir / "stance_confusion.png",
                    f"stance ({split_name}, accuracy {metrics['stance_accuracy']:.3f})")
    plots.pr_curves(probs, y, tagger.topics, out_dir / "pr_curves.png")
    plots.reliability({"topics (per label)": (probs.ravel(), y.ravel().astype(float)),
                       "stance (top class)": (sprobs.max(1), (spred == s).astype(float))},
                      out_dir / "reliability.png")
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(_report(metrics, tagger), encoding="utf-8")
    return metrics


def _brief(m: dict) -> dict:
    return {k: m[k] for k in ("topic_micro_f1", "topic_macro_f1", "stance_accuracy", "stance_macro_f1")}


def _report(m: dict, tagger: Tagger) -> str:
    calib = tagger.config.get("calibration", {})
    lines = [f"# Evaluation of {tagger.name} on the {m['split']} split ({m['examples']} articles)", "",
             "| metric | value |", "|---|---|",
             *[f"| {k} | {m[k]:.3f} |" for k in ("topic_micro_f1", "topic_macro_f1", "stance_accuracy",
                                                 "stance_macro_f1", "topic_ece", "stance_ece")], "",
             "## Per topic", "", "| topic | precision | recall | F1 | support | threshold |", "|---|---|---|---|---|---|",
             *[f"| {t} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} | "
               f"{tagger.thresholds[i]:.3f} |" for i, (t, v) in enumerate(m["per_topic"].items())], "",
             "![per-topic scores](per_topic.png)", "", "## Stance", "",
             "Confusion matrix (rows true, columns predicted): " + ", ".join(tagger.stances), "",
             *["| " + " | ".join(str(x) for x in row) + " |" for row in [tagger.stances] + m["stance_confusion"]][:1],
             "|" + "---|" * len(tagger.stances),
             *["| " + " | ".join(str(x) for x in row) + " |" for row in m["stance_confusion"]], "",
             "![stance confusion](stance_confusion.png)", "", "## Curves", "",
             "![precision-recall](pr_curves.png) ![reliability](reliability.png)", ""]
    if calib:
        b, a = calib["before"], calib["after"]
        lines += ["## Calibration (validation split)", "",
                  f"Expected calibration error before / after temperature scaling: topics {b['topic_ece']:.3f} / "
                  f"{a['topic_ece']:.3f}, stance {b['stance_ece']:.3f} / {a['stance_ece']:.3f}.", ""]
    if "gold" in m:
        g = m["gold"]
        lines += [f"## Model against the labeling rules ({g['examples']} hand-labeled articles)", "",
                  "| | topic micro-F1 | topic macro-F1 | stance accuracy | stance macro-F1 |", "|---|---|---|---|---|",
                  *[f"| {who} | " + " | ".join(f"{g[key][k]:.3f}" for k in ("topic_micro_f1", "topic_macro_f1",
                                                                          "stance_accuracy", "stance_macro_f1")) + " |"
                    for who, key in (("fine-tuned model", "model"), ("weak labels (rules)", "weak_labels"))], ""]
    return "\n".join(lines)


@cli_errors("newstag-eval")
def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="newstag-eval", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model folder written by newstag-train")
    p.add_argument("data", help="dataset folder written by newstag-build")
    p.add_argument("--split", default="test", help="split to score (default test)")
    p.add_argument("-o", "--output", help="folder for metrics.json, report.md and plots (default MODEL/eval-SPLIT)")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    from .train import load_dataset_dir

    Tagger.from_pretrained(args.model)  # a clear error before the dataset is read, if it is not a model
    ds, _, _, _ = load_dataset_dir(args.data)
    if args.split not in ds:
        raise NewstagError(f"{args.data} has no split '{args.split}'; splits: {', '.join(ds)}")
    out = Path(args.output or Path(args.model) / f"eval-{args.split}")
    m = evaluate_split(Path(args.model), ds[args.split], out, args.split, args.batch_size)
    print(f"newstag-eval: {args.split} ({m['examples']} articles): topic micro-F1 {m['topic_micro_f1']:.3f}, "
          f"macro-F1 {m['topic_macro_f1']:.3f}; stance accuracy {m['stance_accuracy']:.3f}, "
          f"macro-F1 {m['stance_macro_f1']:.3f}")
    if "gold" in m:
        g = m["gold"]
        print(f"newstag-eval: on {g['examples']} hand-labeled articles: model topic micro-F1 "
              f"{g['model']['topic_micro_f1']:.3f} vs rules {g['weak_labels']['topic_micro_f1']:.3f}; stance accuracy "
              f"{g['model']['stance_accuracy']:.3f} vs rules {g['weak_labels']['stance_accuracy']:.3f}")
    print(f"newstag-eval: wrote {out / 'metrics.json'} and {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
