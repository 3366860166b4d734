"""Scoring a tagger on a labeled split: metrics, plots and a report; beside it, the rules' weak labels on the
hand-labeled articles, so the report shows what the model adds over its rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from inference.errors import NewstagError
from inference.tagger import Tagger

from . import plots
from .calibration import targets
from .metrics import score, stance_ece, topic_ece


def evaluate_split(tagger: Tagger, rows_ds, out_dir: Path, split_name: str = "test", batch_size: int = 64,
                   model_name: str | None = None) -> dict:
    """Tag the split, score it against its labels, write ``metrics.json``, ``report.md`` and plots to ``out_dir``.

    Args:
        model_name: what ``metrics.json`` names as the model (default: the tagger's name).
    """
    rows = list(rows_ds)
    if not rows:
        raise NewstagError(f"the {split_name} split is empty; nothing to evaluate")
    unknown = {t for r in rows for t in r["topics"]} - set(tagger.topics)
    if unknown:
        raise NewstagError(f"the dataset has topics the model does not know ({', '.join(sorted(unknown))}); "
                           "evaluate on a dataset built with the model's schema")
    probs, sprobs, windows = tagger.scores([(r["title"], r["text"]) for r in rows], batch_size=batch_size)
    pred = (probs >= tagger.thresholds[None, :]).astype(int)
    spred = sprobs.argmax(1)
    y, s = targets(rows, tagger.topics, tagger.stances)
    metrics = score(pred, y, spred, s, tagger.topics, tagger.stances)
    at_half = score((probs >= 0.5).astype(int), y, spred, s, tagger.topics, tagger.stances)
    metrics["thresholds_0.5"] = {k: at_half[k] for k in ("topic_micro_f1", "topic_macro_f1")}  # what tuning bought
    metrics.update(split=split_name, topic_ece=topic_ece(probs, y), stance_ece=stance_ece(sprobs, s),
                   windows_per_article=float(np.mean(windows)), model=model_name or tagger.name)
    gold = [i for i, r in enumerate(rows) if r.get("gold")]
    if gold:  # model and rules side by side on the hand-labeled articles
        g_rows = [rows[i] for i in gold]
        gy, gs = targets(g_rows, tagger.topics, tagger.stances, gold_only=True)
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
             "Confusion matrix: rows the true stance, columns the predicted one.", "",
             "| true / predicted | " + " | ".join(tagger.stances) + " |", "|---|" + "---|" * len(tagger.stances),
             *[f"| {name} | " + " | ".join(str(x) for x in row) + " |"
               for name, row in zip(tagger.stances, m["stance_confusion"])], "",
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
