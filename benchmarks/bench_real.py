"""Quality on real news, rules and models: ``python -m benchmarks.bench_real [--model DIR] [--pool N] [flags]``.

Example:
    python -m benchmarks.bench_real --model runs/demo/model --no-pool    # (a), (b), (d): a few minutes
    python -m benchmarks.bench_real --model runs/demo/model              # everything: about 10 min on 2 cores
    python -m benchmarks.bench_real --config configs/train.yaml --pool 500  # (c) fine-tuned: 30 min
    python -m benchmarks.bench_real --pool 150 --no-record                # a smoke run

The yardstick is ``SHARED/gold/real_dev.jsonl``, 575 real articles labeled by ``SHARED/LABELS.md``; only
aggregate figures are printed. Seven parts, (a)-(e) and (g) each switched off by its flag, (f) switched on by its
own:

(a) ``--no-rules``: the builder's weak labels. ``newstag-build`` runs in-process on the dev set (a temp JSONL
    of id/title/text, a temp gold file, ``--gold --gold-to-test --keep-duplicates --no-plots --labels``;
    its terminal output is not shown) and its ``articles.jsonl`` is scored: topic micro/macro-F1, per-topic
    P/R/F1, stance accuracy, macro-F1 and confusion matrix, and per rule its coverage (share of dev articles
    it voted on) and precision (a +1 topic vote is right when gold has the topic, a -1 vote when gold lacks
    it, a stance vote when gold has that stance). An article the builder dropped counts as tagged with no
    topic and the default stance.
(b) ``--no-model``: ``inference.Tagger.from_pretrained(--model).predict([(title, text), ...], evidence=False)``
    on the dev texts, the same figures (tuned thresholds).
(c) ``--no-pool``: the whole unsupervised path. An unlabeled pool of ``--pool`` real articles, a seeded
    sample spread evenly over FNC-1 ``train_bodies.csv`` (minus the dev set's body ids), BBC News (minus the
    dev set's rows) and Reuters-21578 ModApte train (title and body), after dropping every candidate that is
    a copy or near copy of a dev text (half of its word 5-grams in one dev article), is written to a temp
    JSONL; ``newstag-build`` (no gold, default options) and ``newstag-train`` (``--config``, default
    ``configs/train-weak.yaml``: no fine-tuning, a linear probe on the frozen base encoder, tagging by the union
    of rules and model; with the size flags and ``--set`` overrides, recorded) run on it; the model is scored
    on the dev set as in (b), beside the rules of (a). AG News and the FNC-1 competition test files are
    never read.
(d) ``--no-seeds``: ``benchmarks.bench_seeds`` on the 11 seed articles for the ``--model`` folder and the
    pool model: topic micro-F1 and stance accuracy, the rules beside them.
(e) ``--no-second``: a second real yardstick, ``benchmarks/data/pool_gold.jsonl``: 452 articles of the
    unlabeled corpora (FNC-1 train bodies and BBC News, none of them a dev article) that this project's own
    readers labeled by ``LABELS.md`` (labels and corpus keys only; the texts are read from the corpora; see
    ``benchmarks/data/README.md``). The rules, the ``--model`` folder and the pool model are scored on it as on
    the dev set, and so is an independent second reader's labeling of 70 of its articles
    (``pool_gold_second_reader.jsonl``: how far two readers agree on it), and (c) leaves these articles out of its pool. Rules written while looking at these articles
    are judged on the dev set, and rules written from dev figures on this one: a change that helps only one of
    the two is fitting that set.

(g) ``--no-briefs``: the brief set, ``benchmarks/data/brief_gold.jsonl``: 339 articles of the unlabeled corpora
    (Reuters-21578 ModApte train, BBC News and FNC-1 train bodies; none a dev or second-set article) read and
    labeled as briefs, the title and the first two sentences of the body (``brief_view``), as news feeds and wire
    services give them and as the reserved AG News set is; an independent second reader labeled all of them
    (``brief_gold_second_reader.jsonl``; see ``benchmarks/data/README.md``). Scored as in (e): the rules, the
    ``--model`` folder and the pool model on those briefs, and (c) leaves these articles out of its pool.

(f) ``--train-on-second`` (off by default, about 10 minutes): the review loop at the second set's size with hand
    labels that are not the dev set's. ``newstag-build`` the bundled sample plus the second set's articles, both
    sets' labels as gold, ``newstag-train`` with ``configs/train.yaml`` and ``--rule_blend gold``; scored on the
    dev set as in (b) (not on the second set, which it trained on).

Every model (b, c, f) is also compared with its rules on the same articles, on the dev set, the second set and the
briefs (not (a)'s builder figures, and also under ``--no-rules``): the difference in topic micro-F1 and in stance
macro-F1 with a 95% interval from a paired bootstrap over the articles (2,000 resamples, seeded) and the share
of resamples in which the model scores higher. The rules there are the ones the model's tagger blends with (its
schema, on the text after its own boilerplate is removed: ``Tagger.rule_votes``); the builder of (a) removes the
boilerplate it finds in the dev set itself, which moves the dev stance by about half a point. A model "beats its
rules" only where that interval lies above zero; on a few hundred articles a gap of a point or two usually does
not.

Output: the table, the total time, one record (``benchmarks/results.jsonl``, ``RESULTS.md``) and
``benchmarks/plots/real_per_topic.png`` (per-topic F1 of each tagger); ``--no-record`` writes the plot to the
temp folder instead.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from inference.sentences import sentences

from .common_train import (
    CONFIG,
    LABELS,
    SAMPLE,
    SAMPLE_GOLD,
    build,
    build_sample_plus,
    overrides,
    parser,
    train,
    write_jsonl,
)
from .real_metrics import (
    NearCopies,
    balanced_sample,
    bootstrap_line,
    confusion_line,
    paired_bootstrap,
    per_topic_table,
    plot_per_topic,
    rule_stats,
    rule_tags,
    score_tags,
)
from .results import PLOTS, REPO, record, shared_dir, skip_if_missing

NAME = "bench_real"
DEFAULT_POOL = 3000  # with configs/train-weak.yaml the whole benchmark takes about 10 min on a 2-core CPU
WEAK_CONFIG = REPO / "configs" / "train-weak.yaml"
SECOND_GOLD = REPO / "benchmarks" / "data" / "pool_gold.jsonl"
SECOND_READER = REPO / "benchmarks" / "data" / "pool_gold_second_reader.jsonl"  # an independent reader on a subset
BRIEF_GOLD = REPO / "benchmarks" / "data" / "brief_gold.jsonl"
BRIEF_READER = REPO / "benchmarks" / "data" / "brief_gold_second_reader.jsonl"  # an independent reader on all of it
BRIEF_SENTENCES = 2  # a brief: the title and the first two sentences of the body, as news feeds and wire briefs give
FNC_SOURCE, BBC_SOURCE = "fnc-1 train_bodies", "bbc-news"
CONFIG_KEYS = ("epochs", "learning_rate", "batch_size", "max_length", "max_windows", "head_init",
               "topic_pos_weight", "early_stopping_patience", "bf16", "max_steps", "seed")


def parse_args(argv=None):
    p = parser(NAME, __doc__, limit=False, config=WEAK_CONFIG)  # (c) trains on weak labels only
    p.add_argument("--labels", default=str(LABELS), help="label schema and rules (default configs/labels.yaml)")
    p.add_argument("--model", default="runs/demo/model", help="model folder for (b) and (d) (default runs/demo/model)")
    p.add_argument("--pool", type=int, default=DEFAULT_POOL,
                   help=f"unlabeled real articles for (c) (default {DEFAULT_POOL})")
    p.add_argument("--pool-seed", type=int, default=0, help="seed of the pool sample (default 0)")
    p.add_argument("--save-model", metavar="DIR", help="copy the pool model folder of (c) to DIR")
    p.add_argument("--with-sample", action="store_true",
                   help="(c) builds the pool together with the bundled sample and its hand labels (data/sample, "
                        "labels.jsonl): the unsupervised path plus the project's own gold, which the trainer "
                        "calibrates and blends rules and model on")
    p.add_argument("--train-on-second", action="store_true",
                   help="(f), off by default (about 10 min): newstag-train configs/train.yaml on the bundled sample plus "
                        "the second set's hand labels (--rule_blend gold), scored on the dev set")
    for part, what in (("rules", "(a) the builder's weak labels"), ("model", "(b) the --model folder on the dev set"),
                       ("pool", "(c) the unsupervised path"), ("seeds", "(d) the seed articles"),
                       ("second", "(e) the second real set (benchmarks/data/pool_gold.jsonl)"),
                       ("briefs", "(g) the brief set (benchmarks/data/brief_gold.jsonl)")):
        p.add_argument(f"--no-{part}", action="store_true", help=f"skip {what}")
    return p.parse_args(argv)


def shown(path: str | Path) -> str:
    """A path as recorded: relative to the repository when inside it."""
    p = Path(path).resolve()
    return p.relative_to(REPO).as_posix() if p.is_relative_to(REPO) else str(p)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def schema_names(labels: Path) -> tuple[list[str], list[str]]:
    """The topic and stance names of a labels YAML (the dev set's schema)."""
    import yaml

    doc = yaml.safe_load(Path(labels).read_text(encoding="utf-8"))
    return [t["name"] for t in doc["topics"]], [s["name"] for s in doc["stances"]]


@contextlib.contextmanager
def quiet():
    """Hold back a command's terminal output (on the dev set it may name articles); yields the captured text."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        yield buf


def gold_of(dev: list[dict]) -> tuple[list[set], list[str]]:
    return [set(a["topics"]) for a in dev], [a["stance"] for a in dev]


# ---- (a) the builder's weak labels ---------------------------------------------------------------------------
def rules_on_dev(dev: list[dict], labels: Path, tmp: Path, topics: list[str], stances: list[str],
                 name: str = "dev") -> dict:
    """Build the dev set (or another labeled set: ``name`` keeps its temp files apart) with gold and score its
    weak labels and each rule (see the module docstring)."""
    from training.build import main as build_main

    inp = write_jsonl(tmp / f"{name}_articles.jsonl",
                      ({"id": a["id"], "title": a["title"], "text": a["text"]} for a in dev))
    gold = write_jsonl(tmp / f"{name}_gold.jsonl", ({"id": a["id"], "topics": a["topics"], "stance": a["stance"]}
                                                    for a in dev))
    out = tmp / f"{name}_dataset"
    start = time.perf_counter()
    with quiet() as log:
        rc = build_main([str(inp), "-o", str(out), "--labels", str(labels), "--gold", str(gold), "--gold-to-test",
                         "--keep-duplicates", "--no-plots"])
    if rc:
        last = (log.getvalue().strip().splitlines() or ["(no message)"])[-1]
        raise SystemExit(f"newstag-build on the {name} set failed (exit {rc}): {last}")
    seconds = time.perf_counter() - start
    schema = json.loads((out / "schema.json").read_text(encoding="utf-8"))
    built = {r["id"]: r for r in read_jsonl(out / "articles.jsonl")}
    rows = [built.get(a["id"]) for a in dev]
    gold_topics, gold_stance = gold_of(dev)
    matched = sum(r is not None and r["gold"] and set(r["gold_topics"]) == g and r["gold_stance"] == s
                  for r, g, s in zip(rows, gold_topics, gold_stance))
    score = score_tags(gold_topics, [set(r["weak_topics"]) if r else set() for r in rows], gold_stance,
                       [r["weak_stance"] if r else schema["default_stance"] for r in rows], topics, stances)
    votes = [json.loads(r["votes"]) if r else {} for r in rows]
    rules = rule_stats(votes, gold_topics, gold_stance, {r["name"]: r["label"] for r in schema["rules"]}, stances)
    for r in schema["rules"]:
        rules[r["name"]]["vote"] = r["vote"]
    return {"score": score, "rules": rules, "seconds": seconds, "dropped": sum(r is None for r in rows),
            "gold matched": matched, "boilerplate": sum(bool(r and r["boilerplate_removed"]) for r in rows)}


# ---- (b) a model folder ------------------------------------------------------------------------------------
def model_on_dev(model: Path, dev: list[dict], topics: list[str], stances: list[str]) -> dict:
    """Tag the dev texts with a model folder (tuned thresholds) and score the tags."""
    from inference import Tagger

    start = time.perf_counter()
    tagger = Tagger.from_pretrained(model)
    results = tagger.predict([(a["title"], a["text"]) for a in dev], evidence=False)
    seconds = time.perf_counter() - start
    gold_topics, gold_stance = gold_of(dev)
    pred = ([set(r.topic_names) for r in results], [r.stance for r in results])
    score = score_tags(gold_topics, pred[0], gold_stance, pred[1], topics, stances)
    # the rules this tagger blends with (its schema, its boilerplate removed), for the paired bootstrap
    rules = rule_tags(tagger.rule_votes([(a["title"], a["text"]) for a in dev]), tagger.topics, tagger.stances)
    return {"score": score, "pred": pred, "rules": rules, "seconds": seconds,
            "missing topics": sorted(set(topics) - set(tagger.topics)),
            "fingerprint": tagger.config.get("data_fingerprint")}


# ---- (c) the unsupervised path -----------------------------------------------------------------------------
def pool_paths(corpora: Path) -> dict[str, Path]:
    return {"fnc-1": corpora / "fnc-1" / "train_bodies.csv", "bbc-news": corpora / "bbc-news" / "bbc_news.csv",
            "reuters": corpora / "reuters21578" / "modapte_r90_train.jsonl"}


@functools.cache
def reuters_records(path: Path) -> list[dict]:
    """Every Reuters-21578 ModApte train document as a record (``id`` ``reuters:NEWID``; the title stands for the
    text of a document without a body)."""
    out = []
    for doc in read_jsonl(path):
        title, body = (doc.get("title") or "").strip(), (doc.get("body") or "").strip()
        out.append({"id": f"reuters:{doc['newid']}", "title": title, "text": body or title})
    return out


@functools.cache
def fnc_bbc_records(fnc: Path, bbc: Path) -> dict[str, list[dict]]:
    """Every FNC-1 train body and BBC News article, read once per run (the pool and the second set both need
    them): ``id`` (``fnc-1:BODY_ID``, ``bbc-news:ROW``), ``title``, ``text``, ``source`` and ``body_id`` or
    ``row`` as the dev set names them. Callers build their own records from these and leave them as they are."""
    csv.field_size_limit(2**31 - 1)
    with fnc.open(encoding="utf-8", newline="") as f:
        fnc_rows = [{"id": f"fnc-1:{r['Body ID']}", "title": "", "text": r["articleBody"], "source": FNC_SOURCE,
                     "body_id": int(r["Body ID"])} for r in csv.DictReader(f)]
    with bbc.open(encoding="utf-8", newline="") as f:
        bbc_rows = [{"id": f"bbc-news:{i}", "title": r["title"], "text": r["text"], "source": BBC_SOURCE, "row": i}
                    for i, r in enumerate(csv.DictReader(f))]
    return {"fnc-1": fnc_rows, "bbc-news": bbc_rows}


def pool_candidates(paths: dict[str, Path], dev: list[dict],
                    exclude: set[str] = frozenset()) -> tuple[dict[str, list[dict]], dict[str, int]]:
    """Unlabeled articles per corpus, without the dev set's own rows, without copies of dev texts and without
    the ``exclude`` ids (the articles of the second set and the brief set, scored in (e) and (g)).

    Returns:
        corpus -> records (``id`` = ``fnc-1:BODY_ID``, ``bbc-news:ROW``, ``reuters:NEWID``; ``title``;
        ``text``), and corpus -> candidates dropped as (near) copies of a dev article.
    """
    dev_keys = dev_corpus_keys(dev)
    groups: dict[str, list[dict]] = {
        name: [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in rows if r["id"] not in dev_keys]
        for name, rows in fnc_bbc_records(paths["fnc-1"], paths["bbc-news"]).items()}
    groups["reuters"] = [dict(r) for r in reuters_records(paths["reuters"])]
    near = NearCopies([a["text"] for a in dev])
    dropped = {}
    for name, items in groups.items():
        kept = [x for x in items if x["text"].strip() and x["id"] not in exclude and x["text"] not in near]
        dropped[name] = len(items) - len(kept)
        groups[name] = kept
    return groups, dropped


def dev_corpus_keys(dev: list[dict]) -> set[str]:
    """The dev articles' corpus ids (``fnc-1:BODY_ID``, ``bbc-news:ROW``), as the pool and the second set name
    their records."""
    return {f"fnc-1:{a['body_id']}" if a["source"] == FNC_SOURCE else f"bbc-news:{a['row']}" for a in dev}


def dev_in_pool(pool: list[dict], dev: list[dict]) -> int:
    """Dev articles found in the pool: by dev id, FNC-1 body id or BBC row (0 is the only right answer)."""
    ids = {x["id"] for x in pool}
    return sum(a["id"] in ids for a in dev) + len(dev_corpus_keys(dev) & ids)


def unsupervised(args, dev: list[dict], groups: dict[str, list[dict]], tmp: Path, labels: Path) -> dict:
    """Sample the pool, build it without gold, train on it; returns the figures and the model folder."""
    pool = balanced_sample(groups, args.pool, args.pool_seed)
    found = dev_in_pool(pool, dev)
    if found:
        raise SystemExit(f"{found} dev article(s) in the pool: fix the exclusion before trusting any figure")
    inputs = tmp / "pool_input"
    inputs.mkdir()
    write_jsonl(inputs / "pool.jsonl", pool)
    start = time.perf_counter()
    if args.with_sample:
        data = build([inputs, SAMPLE], tmp / "pool_dataset", labels=labels, gold=SAMPLE_GOLD)
    else:
        data = build([inputs], tmp / "pool_dataset", labels=labels)
    build_s = time.perf_counter() - start
    built = read_jsonl(data / "articles.jsonl")
    run = train(data, tmp / "pool_model", args)
    summary = json.loads((run.model / "train_metrics.json").read_text(encoding="utf-8"))
    cfg = run.tagger.get("train_config", {})
    return {"model": run.model, "build s": build_s, "train s": run.seconds, "pool": pool, "built": built,
            "counts": json.loads((data / "fingerprint.json").read_text(encoding="utf-8"))["counts"],
            "test": run.metrics, "epochs run": summary.get("train", {}).get("epoch"),
            "config": {k: cfg.get(k) for k in CONFIG_KEYS}}


# ---- (e) the second real set and (g) the brief set ------------------------------------------------------------
def brief_view(title: str, text: str) -> tuple[str, str]:
    """What a news feed or a wire brief gives of an article: its title and the first ``BRIEF_SENTENCES``
    sentences of its body, as the tagger splits them (a hard-wrapped wire text is rejoined first)."""
    return " ".join(title.split()), " ".join(" ".join(sentences(text)[:BRIEF_SENTENCES]).split())


def second_set(paths: dict[str, Path], dev: list[dict], gold_path: Path = SECOND_GOLD,
               view=None) -> list[dict]:
    """A labeled set's labels with their texts from the corpora (ids ``fnc-1:BODY_ID``, ``bbc-news:ROW`` and,
    where ``paths`` has Reuters, ``reuters:NEWID``); ``view(title, text)`` gives the part of each article that
    was labeled (``brief_view`` for the brief set), default the whole article.

    Raises ``SystemExit`` when a labeled id is not in its corpus or is a dev article: either would make the
    figures wrong."""
    labels = read_jsonl(gold_path)
    records = [r for rows in fnc_bbc_records(paths["fnc-1"], paths["bbc-news"]).values() for r in rows]
    if any(x["id"].startswith("reuters:") for x in labels) and paths.get("reuters"):
        records += reuters_records(paths["reuters"])
    texts = {r["id"]: r for r in records}
    missing = [x["id"] for x in labels if x["id"] not in texts]
    if missing:
        raise SystemExit(f"{gold_path.name}: {len(missing)} id(s) not in the corpora (first: {missing[0]}); "
                         "the corpora under --shared are not the ones the labels were made on")
    rows = [{**texts[x["id"]], "id": x["id"], "topics": x["topics"], "stance": x["stance"]} for x in labels]
    if view is not None:
        for r in rows:
            r["title"], r["text"] = view(r["title"], r["text"])
    found = dev_in_pool(rows, dev)
    if found:
        raise SystemExit(f"{found} dev article(s) in {gold_path.name}: the set must hold none")
    return rows


def reader_agreement(first: list[dict], second_reader: list[dict], topics: list[str],
                     stances: list[str], reader_name: str = SECOND_READER.name) -> tuple[str, dict]:
    """How far an independent reader's labels of some of the set's articles agree with the set's own: scored
    as if the second reader were a tagger (``score_tags``, the set's labels as gold)."""
    by_id = {a["id"]: a for a in first}
    missing = [x["id"] for x in second_reader if x["id"] not in by_id]
    if missing:
        raise SystemExit(f"{reader_name}: {len(missing)} id(s) not in the set it reads again (first: {missing[0]})")
    gold = [by_id[x["id"]] for x in second_reader]
    score = score_tags([set(a["topics"]) for a in gold], [set(x["topics"]) for x in second_reader],
                       [a["stance"] for a in gold], [x["stance"] for x in second_reader], topics, stances)
    return f"a second reader ({len(second_reader)} of the articles)", score


class LabeledSet(NamedTuple):
    """A labeled set besides the dev set: its name, its ``--no-PART`` flag, its part letter, its labels, an
    independent reader's labels, the view that was labeled (None: whole articles) and the corpora it reads."""

    label: str
    part: str
    letter: str
    gold: Path
    reader: Path
    view: Callable[[str, str], tuple[str, str]] | None
    corpora: tuple[str, ...]


OTHER_SETS = (LabeledSet("second set", "second", "e", SECOND_GOLD, SECOND_READER, None, ("fnc-1", "bbc-news")),
              LabeledSet("briefs", "briefs", "g", BRIEF_GOLD, BRIEF_READER, brief_view, ("fnc-1", "bbc-news", "reuters")))


def second_line(name: str, s: dict, stances: list[str]) -> str:
    return (f"    {name}: topic micro-F1 {s['topic_micro_f1']:.3f}, stance macro-F1 {s['stance_macro_f1']:.3f}; "
            f"{confusion_line(s, stances)}")


# ---- (f) hand labels of other real articles --------------------------------------------------------------------
def trained_on_second(second: list[dict], tmp: Path, labels: Path) -> dict:
    """The review loop at the second set's size, with hand labels that are not the dev set's: ``newstag-build`` the
    bundled sample plus the second set's articles with both sets' labels as gold, ``newstag-train``
    (``configs/train.yaml``, ``--rule_blend gold``). Returns the model folder and the train seconds."""
    import argparse

    data = build_sample_plus(second, tmp, "second_train", labels=labels)
    run = train(data, tmp / "second_train_model", argparse.Namespace(config=str(CONFIG), extra=[]), rule_blend="gold")
    return {"model": run.model, "train s": run.seconds}


# ---- each model against its rules ----------------------------------------------------------------------------
def against_rules(label: str, rows: list[dict], preds: dict[str, tuple], topics: list[str],
                  stances: list[str]) -> list[tuple[str, tuple[str, str]]]:
    """Each model minus its rules on the same articles, with a paired bootstrap interval: whether "better than
    its rules" is more than the luck of which articles were drawn. ``preds``: name -> (the model's tags, the tags
    of the rules its tagger blends with, from ``model_on_dev``), so the difference is what the model adds.
    Returns (printed line, (metric, value))."""
    if not rows or not preds:
        return []
    gold_topics, gold_stance = gold_of(rows)
    out = []
    for name, (pred, rules) in preds.items():
        boot = paired_bootstrap(gold_topics, gold_stance, pred, rules, topics, stances)
        for key, what in (("topic_micro_f1", "topic micro-F1"), ("stance_macro_f1", "stance macro-F1")):
            value = bootstrap_line(boot, key)
            out.append((f"  {label}: {name} minus the rules, {what}: {value}",
                        (f"{label} {name} minus rules {what} (paired bootstrap)", value)))
    return out


# ---- (d) the seed articles ---------------------------------------------------------------------------------
def seed_figures(model: Path, seeds: Path) -> dict:
    """``bench_seeds`` on one model folder: its topic micro-F1 and stance accuracy, and its rules'."""
    from inference import Tagger

    from .bench_seeds import read_expected, scores, tag_seeds

    tagger = Tagger.from_pretrained(model)
    rows = tag_seeds(tagger, seeds, read_expected(seeds / "labels.jsonl"))
    m, w = (scores(rows, who, tagger.topics, tagger.stances) for who in ("model", "rules"))
    return {"topic micro-F1": m["topic_micro_f1"], "stance accuracy": m["stance_accuracy"],
            "rules topic micro-F1": w["topic_micro_f1"], "rules stance accuracy": w["stance_accuracy"],
            "articles found by the splitter": f"{sum(r['model'] is not None for r in rows)} of {len(rows)}"}


# ---- output --------------------------------------------------------------------------------------------------
def score_metrics(prefix: str, s: dict, topics: list[str], stances: list[str]) -> dict:
    out = {f"{prefix} topic micro-F1": s["topic_micro_f1"], f"{prefix} topic macro-F1": s["topic_macro_f1"],
           f"{prefix} stance accuracy": s["stance_accuracy"], f"{prefix} stance macro-F1": s["stance_macro_f1"],
           f"{prefix} stance confusion (gold: predicted counts)": confusion_line(s, stances)}
    for t in topics:
        m = s["per_topic"][t]
        out[f"{prefix} {t} P / R / F1"] = f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}"
    return out


def print_rules(rules: dict) -> None:
    print("  per rule on the dev set: coverage (share of articles voted on), votes, precision")
    for name, r in rules.items():
        prec = "-" if r["precision"] is None else f"{r['precision']:.3f}"
        vote = f"{r.get('vote', 1):+d}"
        print(f"    {name:<34}{r['label'] + ' ' + vote:<26}{r['coverage']:>7.3f}{r['votes']:>6}{prec:>8}")


def seeds_present(seeds: Path) -> bool:
    if not (seeds / "labels.jsonl").is_file():
        print(f"skipped (d): {seeds / 'labels.jsonl'} not found (pass --shared PATH or set NEWSTAG_SHARED)")
        return False
    return True


def main(argv=None) -> int:
    args = parse_args(argv)
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    shared = shared_dir(args.shared)
    dev_path = shared / "gold" / "real_dev.jsonl"
    if skip_if_missing([dev_path]):
        return 0
    dev = read_jsonl(dev_path)
    labels = Path(args.labels)
    topics, stances = schema_names(labels)
    model = Path(args.model)
    has_model = (model / "tagger.json").is_file()
    seeds = shared / "seeds"
    do_seeds = not args.no_seeds and seeds_present(seeds)
    results: dict[str, dict] = {}
    preds: dict[str, tuple] = {}  # per tagger, its topics and stances per article, for the paired bootstrap
    # (e) and (g): the same taggers on the other labeled sets; label -> rows, results, preds
    others: dict[str, dict] = {}
    metrics: dict = {"dev articles": len(dev), "labels": shown(labels)}
    times: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_real_") as tmp_name:
        tmp = Path(tmp_name)
        if not args.no_rules:
            print(f"(a) newstag-build on the {len(dev)} dev articles (--gold --gold-to-test --keep-duplicates)",
                  flush=True)
            a = rules_on_dev(dev, labels, tmp, topics, stances)
            results["rules (builder's weak labels)"] = a["score"]
            times["(a) build s"] = round(a["seconds"], 1)
            print(f"    {a['dropped']} dropped by the builder (scored as no topic, default stance); "
                  f"gold matched by id on {a['gold matched']}; boilerplate removed from {a['boilerplate']}")
            metrics.update({"(a) dev articles dropped by the builder": a["dropped"],
                            "(a) gold labels matched by the builder": a["gold matched"],
                            "(a) dev articles with boilerplate removed": a["boilerplate"],
                            **score_metrics("rules", a["score"], topics, stances)})
            for name, r in a["rules"].items():
                prec = "-" if r["precision"] is None else f"{r['precision']:.3f}"
                metrics[f"rule {name} coverage / precision"] = f"{r['coverage']:.3f} / {prec}"
        if not args.no_model:
            if has_model:
                print(f"(b) {model} on the dev set", flush=True)
                b = model_on_dev(model, dev, topics, stances)
                results[f"model {model.parent.name}/{model.name}"] = b["score"]
                preds["model"] = b["pred"], b["rules"]
                times["(b) tag dev s"] = round(b["seconds"], 1)
                metrics.update({"model": str(model), "model data fingerprint": b["fingerprint"],
                                **score_metrics("model", b["score"], topics, stances)})
                if b["missing topics"]:
                    print(f"    the model has no head for {', '.join(b['missing topics'])} (never predicted)")
            else:
                print(f"skipped (b): model folder {model} not found (run `make demo` or pass --model DIR)")
        if do_seeds and has_model:
            start = time.perf_counter()
            d = seed_figures(model, seeds)
            times["(d) seeds s"] = round(time.perf_counter() - start, 1)
            metrics.update({f"seeds {k}" if k.startswith("rules") else f"seeds model {k}": v for k, v in d.items()})
        elif do_seeds:
            print(f"skipped (d) for --model: {model} not found")
        paths = pool_paths(shared / "corpora")
        for ls in OTHER_SETS:
            label, gold_path, reader, view = ls.label, ls.gold, ls.reader, ls.view
            if getattr(args, f"no_{ls.part}") or skip_if_missing([gold_path] + [paths[c] for c in ls.corpora]):
                continue
            rows = second_set(paths, dev, gold_path, view)
            o = others[label] = {"rows": rows, "gold": gold_path, "results": {}, "preds": {}}
            print(f"({ls.letter}) the {label}: {len(rows)} articles of the unlabeled corpora "
                  f"labeled by the project's readers ({shown(gold_path)}"
                  + (f", read as briefs: the title and {BRIEF_SENTENCES} sentences" if view else "") + "); stances: "
                  + ", ".join(f"{st} {sum(a['stance'] == st for a in rows)}" for st in stances) + "; topics: "
                  + ", ".join(f"{t} {sum(t in a['topics'] for a in rows)}" for t in topics), flush=True)
            if reader.is_file():
                name, score = reader_agreement(rows, read_jsonl(reader), topics, stances, reader.name)
                o["results"][name] = score
            if not args.no_rules:
                o["results"]["rules"] = rules_on_dev(rows, labels, tmp, topics, stances, name=ls.part)["score"]
            if not args.no_model and has_model:
                m = model_on_dev(model, rows, topics, stances)
                o["results"][f"model {model.parent.name}/{model.name}"] = m["score"]
                o["preds"]["model"] = m["pred"], m["rules"]
        second = others.get("second set", {}).get("rows", [])
        if args.train_on_second and second:
            print(f"(f) newstag-train on the bundled sample + the second set's {len(second)} hand-labeled articles",
                  flush=True)
            f = trained_on_second(second, tmp, labels)
            scored = model_on_dev(f["model"], dev, topics, stances)
            name = f"second-set model (sample + {len(second)} hand labels, rule_blend gold)"
            results[name] = scored["score"]
            preds[name] = scored["pred"], scored["rules"]
            times["(f) train min"] = round(f["train s"] / 60, 2)
            metrics.update(score_metrics(name, scored["score"], topics, stances))
        elif args.train_on_second:
            print("skipped (f): the second set is missing or switched off")
        if not args.no_pool and not skip_if_missing(list(paths.values())):
            groups, near = pool_candidates(paths, dev, exclude={x["id"] for o in others.values() for x in o["rows"]})
            print("(c) pool candidates: " + ", ".join(f"{k} {len(v)}" for k, v in groups.items())
                  + "; dropped as (near) copies of a dev text: " + ", ".join(f"{k} {v}" for k, v in near.items()),
                  flush=True)
            c = unsupervised(args, dev, groups, tmp, labels)
            print(f"    {len(c['pool'])} pool articles sampled (seed {args.pool_seed}); dev articles in the pool: 0 "
                  "(checked by dev id, FNC-1 body id and BBC row)")
            start = time.perf_counter()
            scored = model_on_dev(c["model"], dev, topics, stances)
            name = f"pool model ({len(c['pool'])} articles{' + the bundled sample with gold' if args.with_sample else ''})"
            results[name] = scored["score"]
            preds["pool model"] = scored["pred"], scored["rules"]
            times.update({"(c) pool build s": round(c["build s"], 1), "(c) train min": round(c["train s"] / 60, 2),
                          "(c) tag dev s": round(time.perf_counter() - start, 1)})
            by_corpus = {k: sum(x["id"].startswith(k + ":") for x in c["pool"]) for k in groups}
            weak = {t: sum(t in r["weak_topics"] for r in c["built"]) for t in topics}
            metrics.update({
                "pool articles": len(c["pool"]), "pool seed": args.pool_seed,
                "pool per corpus": ", ".join(f"{k} {v}" for k, v in by_corpus.items()),
                "pool candidates dropped as near copies of dev texts": sum(near.values()),
                "dev articles in the pool": 0,
                "pool after dedup (train / validation / test)": " / ".join(str(c["counts"][s])
                                                                           for s in ("train", "validation", "test")),
                "pool weak topics": ", ".join(f"{t} {n}" for t, n in weak.items()),
                "pool weak stances": ", ".join(f"{s} {sum(r['weak_stance'] == s for r in c['built'])}" for s in stances),
                "train overrides": " ".join(overrides(args)) or "(none)", "train config": shown(args.config),
                **{f"train {k}": v for k, v in c["config"].items()}, "train epochs run": c["epochs run"],
                "pool model topic micro-F1 on its own test split (weak labels)": c["test"].get("topic_micro_f1"),
                "pool model stance accuracy on its own test split (weak labels)": c["test"].get("stance_accuracy"),
                **score_metrics("pool model", scored["score"], topics, stances)})
            for o in others.values():
                m = model_on_dev(c["model"], o["rows"], topics, stances)
                o["results"]["pool model"] = m["score"]
                o["preds"]["pool model"] = m["pred"], m["rules"]
            if do_seeds:
                start = time.perf_counter()
                d = seed_figures(c["model"], seeds)
                times["(d) seeds, pool model s"] = round(time.perf_counter() - start, 1)
                metrics.update({f"seeds pool model {k}": v for k, v in d.items() if not k.startswith("rules")})
                metrics.setdefault("seeds rules topic micro-F1", d["rules topic micro-F1"])
                metrics.setdefault("seeds rules stance accuracy", d["rules stance accuracy"])
            if args.save_model:
                shutil.copytree(c["model"], args.save_model, dirs_exist_ok=True)
                print(f"    pool model copied to {args.save_model}")
        elif not args.no_pool:
            print("skipped (c): the unlabeled corpora are missing")

    if not results and not any(o["results"] for o in others.values()) and not any(k.startswith("seeds ") for k in metrics):
        print("nothing was scored (every part switched off or skipped); nothing recorded")
        return 0
    if results:
        print(f"\nReal dev set ({len(dev)} articles), precision / recall / F1 per topic:")
        print("\n".join(per_topic_table(results, topics)))
        for name, s in results.items():
            print(f"  stance confusion, {name}: {confusion_line(s, stances)}")
    if not args.no_rules:
        print_rules(a["rules"])
    for label, o in others.items():
        print(f"{label[0].upper() + label[1:]} ({len(o['rows'])} articles, {shown(o['gold'])}):")
        for name, sc in o["results"].items():
            print(second_line(name, sc, stances))
            metrics.update(score_metrics(f"{label} {name}", sc, topics, stances))
        metrics[f"{label} articles"] = len(o["rows"])
    for label, rows, p in [("dev", dev, preds)] + [(k, o["rows"], o["preds"]) for k, o in others.items()]:
        for line, (key, value) in against_rules(label, rows, p, topics, stances):
            print(line)
            metrics[key] = value
    for key in [k for k in metrics if k.startswith("seeds ")]:
        print(f"  {key}: {metrics[key]:.3f}" if isinstance(metrics[key], float) else f"  {key}: {metrics[key]}")
    topics_support = next(iter(results.values()))["per_topic"] if results else {}
    metrics.update({f"gold support {t}": m["support"] for t, m in topics_support.items()})
    wall = time.perf_counter() - started
    metrics.update({**times, "benchmark wall min": round(wall / 60, 2),
                    "load average at start / end": f"{load0:.2f} / {os.getloadavg()[0]:.2f}"})
    print("  times: " + ", ".join(f"{k} {v}" for k, v in times.items()) + f"; total {wall / 60:.1f} min")
    png = (Path(tempfile.gettempdir()) / "bench_real_per_topic.png") if args.no_record else PLOTS / "real_per_topic.png"
    if results:
        plot_per_topic(results, topics, png, f"Per-topic F1 on the real dev set ({len(dev)} articles)")
    if args.no_record:
        print(f"(--no-record: nothing written; plot {png})")
        return 0
    record(NAME, metrics, plots=[png] if results else [])
    print(f"recorded in benchmarks/results.jsonl and benchmarks/RESULTS.md; plot {png.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
