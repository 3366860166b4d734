"""The tagger on the 11 seed articles, beside the labeling rules: ``python -m benchmarks.bench_seeds [--model DIR]``.

Example:
    python -m benchmarks.bench_seeds                      # build data/sample, train with the config defaults
    python -m benchmarks.bench_seeds --model runs/demo/model          # score an existing model folder
    python -m benchmarks.bench_seeds --epochs 1 --max_steps 5 --no-record    # a smoke run

Without ``--model``, newstag's own commands run in-process on the bundled sample: ``newstag-build data/sample
--gold data/sample/labels.jsonl --labels configs/labels.yaml`` and ``newstag-train`` (config defaults; the
size flags override them). The five seed pages (``SHARED/seeds/*.txt``, raw as scraped) are then tagged together
with ``Tagger.tag_pages`` (split into their articles; the boilerplate of the collection, e.g. a background
paragraph the outlet pastes under every story, and the model's removed; tuned thresholds), and, for comparison,
one page at a time with ``Tagger.tag_page`` (the model's boilerplate only). Both are scored against ``SHARED/seeds/labels.jsonl``, matched by page and title: topic micro- and macro-F1 over the
schema's topics and stance accuracy. Beside them, the weak labels of the model's own schema rules on the same
article texts: what the model adds over the rules it was trained from. A seed article the page splitter does
not find counts as tagged with no topic and a wrong stance.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from .common_train import LABELS, SAMPLE, SAMPLE_GOLD, build, parser, report, resolved_config, settings, train
from .results import shared_dir, skip_if_missing

NAME = "bench_seeds"


def read_expected(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def tag_seeds(tagger, seeds: Path, expected: list[dict]) -> list[dict]:
    """Per expected article: the model's topics and stance with the collection's boilerplate removed
    (``Tagger.tag_pages``, the default), page by page with the model's boilerplate only (``Tagger.tag_page``),
    and the rules' on the text the model read (None where the article was not found)."""
    from inference.boilerplate import collection_texts, strip_boilerplate
    from inference.pages import split_articles
    from inference.readers import decode
    from inference.rules import labeling_functions, weak_label
    from training.builder.gold import title_key

    lfs = labeling_functions(tagger.rule_schema)
    names = sorted({e["file"] for e in expected})
    pages = [decode((seeds / name).read_bytes(), name)[0] for name in names]
    per_page = [split_articles(p) for p in pages]
    cleaned = iter(collection_texts([(a.title, a.text) for arts in per_page for a in arts]))
    found: dict[tuple[str, str], dict] = {}
    for name, page, articles, results in zip(names, pages, per_page, tagger.tag_pages(pages, evidence=False),
                                              strict=True):
        single = tagger.tag_page(page, evidence=False)
        for art, res, one in zip(articles, results, single, strict=True):
            text = strip_boilerplate(next(cleaned), tagger.boilerplate)[0]
            weak = weak_label(tagger.rule_schema, lfs, art.title, text)
            found[(name, title_key(art.title))] = {"model": (res.topic_names, res.stance),
                                                   "model page by page": (one.topic_names, one.stance),
                                                   "rules": (list(weak.topics), weak.stance)}
    missing = {"model": None, "model page by page": None, "rules": None}
    return [{**e, **found.get((e["file"], title_key(e["title"])), missing)} for e in expected]


def scores(rows: list[dict], who: str, topics: list[str], stances: list[str]) -> dict:
    """Topic micro/macro-F1 and stance accuracy of ``who`` (model or rules) with training.trainer.metrics.score."""
    from training.trainer.metrics import score

    y = np.array([[t in r["topics"] for t in topics] for r in rows], dtype=int)
    s = np.array([stances.index(r["stance"]) for r in rows])
    pred = np.array([[r[who] is not None and t in r[who][0] for t in topics] for r in rows], dtype=int)
    spred = np.array([stances.index(r[who][1]) if r[who] is not None else -1 for r in rows])
    return score(pred, y, spred, s, topics, stances)


def main(argv=None) -> int:
    p = parser(NAME, __doc__, limit=False)
    p.add_argument("--model", help="a model folder written by newstag-train: score it, skip building and training")
    args = p.parse_args(argv)
    seeds = shared_dir(args.shared) / "seeds"
    if skip_if_missing([seeds / "labels.jsonl"]):
        return 0
    from inference import Tagger

    expected = read_expected(seeds / "labels.jsonl")
    if skip_if_missing(sorted({seeds / e["file"] for e in expected})):
        return 0
    metrics: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_seeds_") as tmp:
        if args.model:
            model = Path(args.model)
            metrics["model"] = str(model)
        else:
            cfg = resolved_config(args)
            data = build([SAMPLE], Path(tmp) / "dataset", labels=LABELS, gold=SAMPLE_GOLD)
            run = train(data, Path(tmp) / "model", args)
            model = run.model
            metrics.update({"model": "trained on data/sample", "newstag train wall min": round(run.seconds / 60, 2),
                            "sample test topic micro-F1": run.metrics["topic_micro_f1"], **settings(cfg)})
        tagger = Tagger.from_pretrained(model)
        rows = tag_seeds(tagger, seeds, expected)

    found = sum(r["model"] is not None for r in rows)
    if found < len(rows):
        print(f"warning: {len(rows) - found} seed article(s) not found on their page by the splitter: "
              + "; ".join(r["title"] for r in rows if r["model"] is None), file=sys.stderr)
    m = scores(rows, "model", tagger.topics, tagger.stances)
    w = scores(rows, "rules", tagger.topics, tagger.stances)
    single = scores(rows, "model page by page", tagger.topics, tagger.stances)
    print(f"{len(rows)} seed articles on {len({r['file'] for r in rows})} pages, {found} found by the splitter")
    for r in rows:
        got = r["model"] or ([], "(not found)")
        rules = r["rules"] or ([], "(not found)")
        print(f"- {r['title'][:70]}\n    expected {sorted(r['topics'])} {r['stance']}\n"
              f"    model    {sorted(got[0])} {got[1]}\n    rules    {sorted(rules[0])} {rules[1]}")
    metrics = {
        "model topic micro-F1": m["topic_micro_f1"], "model topic macro-F1": m["topic_macro_f1"],
        "model stance accuracy": m["stance_accuracy"],
        "model page by page topic micro-F1": single["topic_micro_f1"],
        "model page by page stance accuracy": single["stance_accuracy"],
        "rules topic micro-F1": w["topic_micro_f1"], "rules topic macro-F1": w["topic_macro_f1"],
        "rules stance accuracy": w["stance_accuracy"],
        "seed articles": len(rows), "found by the splitter": found, **metrics,
    }
    report(NAME, metrics, args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
