"""Single-label topic accuracy on BBC News: ``python -m benchmarks.bench_bbc [--shared PATH] [size flags]``.

Example:
    python -m benchmarks.bench_bbc                        # 2,225 articles, config defaults
    python -m benchmarks.bench_bbc --limit 150 --epochs 1 --max_steps 5 --no-record    # a smoke run
    python -m benchmarks.bench_bbc --save-model runs/bbc    # keep the model and its test articles for bench_tag

``SHARED/corpora/bbc-news/bbc_news.csv`` is converted (not timed) into a labels YAML (the 5 categories as
topics, one stance ``none``, no rules), records (``id`` = category/file, ``title``, ``text``) and a gold file
(``topics`` = [category]). newstag's own commands then run in-process: ``newstag-build`` with its defaults
(duplicates grouped before the split, one article kept per cluster, fractions 0.7,0.15,0.15, seed 0) and
``newstag-train --stance_loss_weight 0`` with the config's defaults otherwise. Test accuracy is the argmax of
the saved model's topic scores (``inference.Tagger`` on the test split of the saved dataset) against the
category, with macro-F1 over the 5 categories; beside it TF-IDF + LinearSVC (one-vs-rest, C=1) fitted on
train + validation and scored the same way on the same test articles, and the published range.
``--save-model DIR`` copies the model folder to DIR and writes the test articles with their category to
``DIR/test_articles.jsonl`` (held out from training; ``bench_tag --articles`` reads it).
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from pathlib import Path

from .common_train import (
    build,
    dataset_rows,
    label_names,
    parser,
    report,
    resolved_config,
    sample_rows,
    settings,
    svm_scores,
    train,
    write_jsonl,
    write_schema,
)
from .results import shared_dir, skip_if_missing

NAME = "bench_bbc"
PUBLISHED = "95-98 % (no official split; SHARED/corpora/README.md)"


def convert(csv_path: Path, out: Path, limit: int | None) -> tuple[Path, Path, Path, list[str], int]:
    """Labels YAML, records JSONL and gold JSONL in ``out``; returns their paths, the topics and the article count."""
    csv.field_size_limit(2**31 - 1)
    with csv_path.open(encoding="utf-8", newline="") as f:
        rows = sample_rows(list(csv.DictReader(f)), limit)
    names = label_names(sorted({r["category"] for r in rows}))
    labels = write_schema(out / "labels.yaml", list(names.values()), note="BBC News")
    inputs = out / "input"
    inputs.mkdir()
    ids = [f"{r['category']}/{r['file']}" for r in rows]
    write_jsonl(inputs / "bbc_news.jsonl", ({"id": i, "title": r["title"], "text": r["text"]} for i, r in zip(ids, rows)))
    gold = write_jsonl(out / "gold.jsonl", ({"id": i, "topics": [names[r["category"]]], "stance": "none"}
                                            for i, r in zip(ids, rows)))
    return labels, inputs, gold, list(names.values()), len(rows)


def accuracy_and_macro_f1(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(truth, predicted)), float(f1_score(truth, predicted, average="macro", zero_division=0))


def main(argv=None) -> int:
    p = parser(NAME, __doc__)
    p.add_argument("--save-model", metavar="DIR",
                   help="copy the trained model folder here, with its test articles in DIR/test_articles.jsonl")
    args = p.parse_args(argv)
    csv_path = shared_dir(args.shared) / "corpora" / "bbc-news" / "bbc_news.csv"
    if skip_if_missing([csv_path]):
        return 0
    from inference import Tagger

    fixed = {"stance_loss_weight": 0}
    cfg = resolved_config(args, **fixed)
    with tempfile.TemporaryDirectory(prefix="bench_bbc_") as tmp:
        tmp = Path(tmp)
        labels, inputs, gold, topics, n_articles = convert(csv_path, tmp, args.limit)
        data = build([inputs], tmp / "dataset", labels=labels, gold=gold)
        rows = dataset_rows(data)
        test = rows["test"]
        truth = [r["topics"][0] for r in test]

        def joined(rs):
            return [f"{r['title']}\n{r['text']}" for r in rs]

        fit = rows["train"] + rows["validation"]  # what newstag fits and tunes on
        scores, svm_s = svm_scores(joined(fit), [r["topics"] for r in fit], joined(test), topics)
        svm_acc, svm_macro = accuracy_and_macro_f1(truth, [topics[j] for j in scores.argmax(1)])

        run = train(data, tmp / "model", args, **fixed)
        tagger = Tagger.from_pretrained(run.model)
        logits, _, _ = tagger.logits([(r["title"], r["text"]) for r in test], batch_size=cfg.eval_batch_size)
        acc, macro = accuracy_and_macro_f1(truth, [tagger.topics[j] for j in logits.argmax(1)])
        if args.save_model:
            keep = Path(args.save_model)
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(run.model, keep)
            write_jsonl(keep / "test_articles.jsonl", ({"id": r["id"], "title": r["title"], "text": r["text"],
                                                        "topics": r["topics"]} for r in test))
            print(f"model and its {len(test)} test articles kept in {keep}")

    metrics = {
        "newstag test accuracy (argmax)": acc,
        "newstag test macro-F1 (argmax)": macro,
        "newstag test micro-F1 (tuned thresholds, multi-label)": run.metrics["topic_micro_f1"],
        "newstag train wall min": round(run.seconds / 60, 2),
        "svm test accuracy": svm_acc,
        "svm test macro-F1": svm_macro,
        "svm fit+score s": round(svm_s, 1),
        "published accuracy": PUBLISHED,
        "articles": n_articles,
        "kept after duplicate grouping": sum(len(r) for r in rows.values()),
        "train articles": len(rows["train"]), "validation articles": len(rows["validation"]),
        "test articles": len(test),
        **settings(cfg), "limit": args.limit if args.limit is not None else "all",
    }
    print(f"BBC News: {n_articles} articles, {metrics['kept after duplicate grouping']} kept after duplicate "
          f"grouping: {len(rows['train'])} train / {len(rows['validation'])} validation / {len(test)} test")
    report(NAME, metrics, args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
