"""Topic quality on Reuters-21578 ModApte R90: ``python -m benchmarks.bench_reuters [--shared PATH] [size flags]``.

Example:
    python -m benchmarks.bench_reuters                    # 7,770 train / 3,019 test documents, config defaults
    python -m benchmarks.bench_reuters --limit 200 --epochs 1 --max_steps 20 --no-record   # a smoke run

The ModApte R90 files (``SHARED/corpora/reuters21578``) are converted (not timed) into a labels YAML
(the 90 categories as topics, one stance ``none``, no rules), records (``id``, ``title``, ``text`` = title
and body, or the title alone for the 926 documents without a body, ``split``) and a gold file. newstag's own
commands then run in-process: ``newstag-build --split-column split --keep-duplicates --fractions 0.9,0.1,0.0``
(ModApte test stays the test split; validation is cut from ModApte train) and ``newstag-train
--stance_loss_weight 0 --max_length 256`` with the config's defaults otherwise. Reported: test micro- and
macro-F1 from the model folder's ``metrics.json`` (per-topic thresholds tuned on validation), the wall time
of the newstag-train call, and beside them TF-IDF + LinearSVC (one-vs-rest, C=1) fitted on ModApte train
(train + validation) and scored on the same test documents, on the builder's text (what newstag reads, with
cross-document boilerplate sentences removed) and on the documents as given, and the published figures.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from .common_train import (
    build,
    dataset_rows,
    f1_pair,
    label_names,
    multi_hot,
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

NAME = "bench_reuters"
MODAPTE_TEST = 3019
# Published micro-F1 on ModApte R90, as cited in SHARED/corpora/README.md.
PUBLISHED = {
    "published micro-F1 linear SVM (Yang & Liu 1999; Joachims 1998)": 0.86,
    "published micro-F1 fine-tuned BERT": "0.89-0.90",
    "published micro-F1 DocBERT distilled LSTM (Adhikari et al. 2019)": 0.889,
}


def read_modapte(folder: Path, split: str) -> list[dict]:
    lines = (folder / f"modapte_r90_{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def convert(folder: Path, out: Path, limit: int | None) -> tuple[Path, Path, Path, dict[str, str], dict[str, str]]:
    """Labels YAML, records JSONL and gold JSONL in ``out``.

    Returns:
        Their paths, category -> topic name, and id -> the document as given (title and body).
    """
    categories = [c for c in (folder / "categories_r90.txt").read_text(encoding="utf-8").split() if c]
    names = label_names(categories)
    labels = write_schema(out / "labels.yaml", [names[c] for c in categories], note="Reuters-21578")
    records, gold, original = [], [], {}
    for split in ("train", "test"):
        for doc in sample_rows(read_modapte(folder, split), limit):
            title, body = (doc.get("title") or "").strip(), (doc.get("body") or "").strip()
            rid = f"reuters-{doc['newid']}"
            original[rid] = f"{title}\n{body}" if body else title
            records.append({"id": rid, "title": title, "text": original[rid], "split": split})
            gold.append({"id": rid, "topics": [names[c] for c in doc["labels"]], "stance": "none"})
    inputs = out / "input"
    inputs.mkdir()
    write_jsonl(inputs / "modapte_r90.jsonl", records)
    return labels, inputs, write_jsonl(out / "gold.jsonl", gold), names, original


def main(argv=None) -> int:
    args = parser(NAME, __doc__, max_length=256).parse_args(argv)
    folder = shared_dir(args.shared) / "corpora" / "reuters21578"
    if skip_if_missing([folder / f for f in ("categories_r90.txt", "modapte_r90_train.jsonl",
                                              "modapte_r90_test.jsonl")]):
        return 0
    fixed = {"stance_loss_weight": 0}
    cfg = resolved_config(args, **fixed)
    with tempfile.TemporaryDirectory(prefix="bench_reuters_") as tmp:
        tmp = Path(tmp)
        labels, inputs, gold, names, original = convert(folder, tmp, args.limit)
        data = build([inputs], tmp / "dataset", "--split-column", "split", "--keep-duplicates",
                     "--fractions", "0.9,0.1,0.0", labels=labels, gold=gold)
        rows = dataset_rows(data)
        topics = list(names.values())
        fit = rows["train"] + rows["validation"]  # ModApte train: what newstag fits and tunes on
        test = rows["test"]
        truth = multi_hot([r["topics"] for r in test], topics)
        svm = {}
        # the builder's text (boilerplate sentences removed), what newstag reads; and the documents as given
        for key, text in (("", lambda r: r["text"]), (" (original text)", lambda r: original[r["id"]])):
            scores, seconds = svm_scores([text(r) for r in fit], [r["topics"] for r in fit], [text(r) for r in test],
                                         topics)
            micro, macro = f1_pair(truth, (scores > 0).astype(int))
            svm.update({f"svm{key} test micro-F1": micro, f"svm{key} test macro-F1": macro,
                        f"svm{key} fit+score s": round(seconds, 1)})
        run = train(data, tmp / "model", args, **fixed)

    expected_test = MODAPTE_TEST if args.limit is None else min(args.limit, MODAPTE_TEST)
    if len(test) != expected_test:
        print(f"warning: the test split holds {len(test)} documents, not {expected_test}: the builder dropped some "
              "(see its report); the figures are not on the full ModApte test set", file=sys.stderr)
    renamed = {c: n for c, n in names.items() if c != n}
    metrics = {
        "newstag test micro-F1": run.metrics["topic_micro_f1"],
        "newstag test macro-F1": run.metrics["topic_macro_f1"],
        "newstag test micro-F1, thresholds 0.5": run.metrics["thresholds_0.5"]["topic_micro_f1"],
        "newstag test macro-F1, thresholds 0.5": run.metrics["thresholds_0.5"]["topic_macro_f1"],
        "newstag train wall min": round(run.seconds / 60, 2),
        **svm,
        **PUBLISHED,
        "train documents": len(rows["train"]), "validation documents": len(rows["validation"]),
        "test documents": len(test), "topics": len(topics),
        "topics without a train document": sum(not any(t in r["topics"] for r in rows["train"]) for t in topics),
        "renamed categories": json.dumps(renamed) if renamed else "none",
        **settings(cfg), "limit": args.limit if args.limit is not None else "all",
    }
    print(f"Reuters-21578 ModApte R90: {len(rows['train'])} train / {len(rows['validation'])} validation / "
          f"{len(test)} test documents, {len(topics)} topics")
    report(NAME, metrics, args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
