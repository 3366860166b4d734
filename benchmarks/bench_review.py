"""The review loop, measured: ``python -m benchmarks.bench_review --model runs/demo/model [--shared PATH]``.

Example:
    python -m benchmarks.bench_review --model runs/demo/model                 # about 10 min on a 2-core CPU
    python -m benchmarks.bench_review --model runs/demo/model --random-seeds 1 --steps 10 --no-record
    python -m benchmarks.bench_review --model runs/demo/model --finetune 100    # + the product path: 15 min

A simulated analyst on ``SHARED/gold/real_dev.jsonl`` (575 real articles; only aggregate figures are printed):
the dev set is cut in two seeded halves. The labels of one half answer for the analyst: the review queue
(``training.reviewer.queue.ReviewQueue``, the page's own code, fed by ``training.reviewer.signals.pool_signals``
with the ``--model`` tagger, as ``newstag-review`` does) picks the next article, the analyst "decides" it with its
gold labels, the queue moves on (near duplicates left out, rarity counts updated). After 25, 50, 100 and 200
decisions the model is retrained and scored on the other half; then the halves swap and the two scores are
averaged. The same budgets chosen by the queue's ``random`` mode (``--random-seeds`` seeds, averaged) are the
baseline, and the queue without its novelty term (``ReviewQueue(diversity=False)``: uncertainty, disagreement
and rarity alone) shows what that term changes.

"Retrained model" here: retraining the transformer 40 times does not fit a 2-core CPU, so the encoder stays
frozen. Every article (the bundled sample with its hand labels, and the dev set) is encoded once by the
``--model`` folder's encoder (its first window, mean-pooled: the trainer's linear-probe features, the vectors the
queue's novelty uses, ``training.reviewer.signals.pool_embeddings``) and its
labeling-rule votes are computed once (fired and clipped margin per topic, stance scores). The heads are then
fitted on these features, the trainer's probe (``training.trainer.probe.fit_linear_heads``: weighted logistic
regression per topic, softmax regression for the stance, L2 ``--l2``, balanced stance class weights) on the sample
plus the reviewed articles (weight ``--review-weight`` each). The retrained heads tag with the rules as the
tagger's ``union`` blend does (``inference.blend``: the rules' topics stand and the heads add theirs at 0.5; the
stance is the rules' where they pick one, else the default unless the heads are 0.99 sure): that is the headline
curve. Beside it the heads alone (topics at 0.5, their stance argmax) and ``rules_first`` (the heads add a topic or
a stance only at 0.99). At 0 reviewed articles the heads know the sample alone. Also beside them: the labeling
rules and the ``--model`` folder as it is, on the same halves.

``--finetune N``: the loop as the README runs it, beside the fast simulation. Per half, ``newstag-build`` the
bundled sample plus the queue's first N articles of the review half with their gold labels, ``newstag-train``
(``configs/train.yaml``, the transformer fine-tuned) on it, and the model calibrated as newstag-train does with each
``rule_blend`` (``rules_first``, the default; ``union``; ``gold``, a blend fitted on the validation split's hand
labels: training does not depend on the blend, so one training serves all three) and scored on the other half;
at 0, the ``--model`` folder calibrated the same three ways on the sample's validation split. Each is compared
with the rules (those the same tagger blends with) over both scored halves together, every dev article scored once
by a model that did not see it: the difference with a 95% paired-bootstrap interval (``real_metrics``).

Last, the review step's latency: ``newstag-review``'s app with the ``--model`` tagger over the bundled sample built
without its labels, served on 127.0.0.1 and driven by an HTTP client: ``--steps`` times, POST a decision and GET the
next article (one ``httpx.Client``, its connection kept alive as a browser's is); p50/p95 of a step, and of the
same step in-process (``ReviewSession.decide`` and ``next_view``, no HTTP). Output: the table, a record (``benchmarks/results.jsonl``, ``RESULTS.md``) and
``benchmarks/plots/review_learning_curve.png``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .common_train import (
    CONFIG,
    LABELS,
    SAMPLE,
    SAMPLE_GOLD,
    build,
    build_sample_plus,
    dataset_rows,
    resolved_config,
    train,
)
from .real_metrics import bootstrap_line, paired_bootstrap, rule_tags, score_tags
from .results import PLOTS, benchmark_parser, finish, save_plot, shared_dir, skip_if_missing

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_review"
BUDGETS = (0, 25, 50, 100, 200)
SELECTIONS = ("queue", "queue without novelty", "random")


def parse_args(argv=None):
    p = benchmark_parser(NAME, __doc__)
    p.add_argument("--model", default="runs/demo/model", help="model folder: the queue's tagger and the encoder")
    p.add_argument("--random-seeds", type=int, default=5, help="seeds of the random baseline, averaged")
    p.add_argument("--split-seed", type=int, default=0, help="seed of the dev set's two halves")
    p.add_argument("--review-weight", type=float, default=3.0, help="training weight of a reviewed article")
    p.add_argument("--l2", type=float, default=1e-2, help="L2 penalty of the retrained heads (standardised features)")
    p.add_argument("--steps", type=int, default=50, help="review steps timed over HTTP")
    p.add_argument("--finetune", type=int, default=0, metavar="N",
                   help="also the product path: newstag-build the sample plus the queue's first N articles as hand "
                        "labels, newstag-train on it and score it with each rule_blend (0, the default: skip; 100 "
                        "takes about 8 min on a 2-core CPU with bf16)")
    p.add_argument("--finetune-epochs", type=float, help="newstag-train --epochs for --finetune (default: the config's)")
    args = p.parse_args(argv)
    if not 0 <= args.finetune <= max(BUDGETS):
        p.error(f"--finetune {args.finetune}: the queue picks at most {max(BUDGETS)} articles; give 0 to {max(BUDGETS)}")
    return args


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---- features, once ------------------------------------------------------------------------------------------
def rule_features(margins: np.ndarray, rule_stance: np.ndarray) -> np.ndarray:
    return np.concatenate([(margins >= 0).astype(float), np.clip(margins, -3, 3), np.clip(rule_stance, 0, 3)], axis=1)


# ---- the retrained heads -------------------------------------------------------------------------------------
def probe_logits(x_train, topic_y, stance_y, weights, x_test, l2: float, n_stances: int):
    """Fit the probe's heads (``fit_linear_heads``, balanced stance class weights) on (x_train, labels, weights);
    their topic logits (articles, topics) and stance logits (articles, stances) on ``x_test``."""
    import torch

    from training.trainer.probe import fit_linear_heads, raw_heads

    s = torch.as_tensor(np.asarray(stance_y), dtype=torch.long)
    w = torch.as_tensor(np.asarray(weights), dtype=torch.float32)
    counts = torch.bincount(s, weights=w, minlength=n_stances).clamp(min=1.0)
    stance_weight = counts.sum() / (n_stances * counts)  # balanced classes
    heads = raw_heads(fit_linear_heads(torch.as_tensor(np.asarray(x_train), dtype=torch.float32),
                                       torch.as_tensor(np.asarray(topic_y), dtype=torch.float32), s, n_stances, w,
                                       None, stance_weight, l2))
    xt = torch.as_tensor(np.asarray(x_test), dtype=torch.float32)
    return ((xt @ heads["topic_weight"].T + heads["topic_bias"]).numpy().astype(np.float64),
            (xt @ heads["stance_weight"].T + heads["stance_bias"]).numpy().astype(np.float64))


def probe_predict(x_train, topic_y, stance_y, weights, x_test, l2: float, n_stances: int):
    """The probe's heads alone on ``x_test``: topic decisions at 0.5 (articles, topics), the stance argmax."""
    topic, stance = probe_logits(x_train, topic_y, stance_y, weights, x_test, l2, n_stances)
    return topic >= 0, stance.argmax(1)


# how the retrained heads tag: alone, or with the rules as the tagger's blends combine them (inference.blend)
COMPOSITIONS = ("union", "heads alone", "rules first")


def fit_and_score(x_train, topics_train, stance_train, weights, x_test, votes_test, gold_test, args, topics,
                  stances, default_stance: int) -> dict:
    """Fit the probe's heads on (x_train, labels, weights) and score them on the test half in each of
    ``COMPOSITIONS``: the heads alone (topics at 0.5), the ``union`` blend with the test half's rule votes
    (``votes_test``, a ``RuleVotes``; topics the rules give stand, the heads add theirs at 0.5, the rules' stance
    where they pick one) and ``rules_first`` (the heads add a topic, or replace the default stance, at 0.99)."""
    from inference.blend import MODEL_ALONE_P, RuleBlend

    y = [[t in row for t in topics] for row in topics_train]
    s = [stances.index(x) for x in stance_train]
    topic, stance = probe_logits(x_train, y, s, weights, x_test, args.l2, len(stances))
    first_bar = float(np.log(MODEL_ALONE_P / (1 - MODEL_ALONE_P)))
    decided = {"heads alone": (topic >= 0, stance.argmax(1))}
    for name, kind, bar in (("union", "union", 0.0), ("rules first", "rules_first", first_bar)):
        blend = RuleBlend.union(len(stances), default_stance, kind)
        decided[name] = (blend.topic_logits(topic, votes_test) >= bar,
                         blend.stance_logits(stance, votes_test).argmax(1))
    gold = [set(g["topics"]) for g in gold_test], [g["stance"] for g in gold_test]
    return {name: score_tags(gold[0], [{t for t, on in zip(topics, row) if on} for row in topic_on], gold[1],
                             [stances[i] for i in stance_at], topics, stances)
            for name, (topic_on, stance_at) in decided.items()}


# ---- the product path: newstag-build, newstag-train, each rule_blend -----------------------------------------
FINETUNE_BLENDS = ("rules_first", "union", "gold")


def blends_scored(model: Path, val: list[dict], cfg_args, tests: list[list[dict]], topics,
                  stances) -> tuple[dict, list[tuple]]:
    """The trained ``model`` calibrated on ``val`` (its validation split) as newstag-train does with each of
    ``FINETUNE_BLENDS`` (training itself does not depend on the blend), then scored on each labeled article list
    of ``tests``: ({blend: [score per list, with its ``pred``: topic sets and stances]}, [the rules' own tags
    per list, as that tagger's rules give them]); the tags are kept for the paired bootstrap."""
    from inference import Tagger
    from training.trainer.calibration import calibrate

    arts = [[(a["title"], a["text"]) for a in test] for test in tests]
    out = {}
    for blend in FINETUNE_BLENDS:
        tagger = Tagger.from_pretrained(model, device="cpu")
        calibrate(tagger, val, resolved_config(cfg_args, rule_blend=blend))
        out[blend] = []
        for test, articles in zip(tests, arts):
            tags = tagger.predict(articles, evidence=False)
            pred = [set(t.topic_names) for t in tags], [t.stance for t in tags]
            out[blend].append({**score_tags([set(g["topics"]) for g in test], pred[0], [g["stance"] for g in test],
                                            pred[1], topics, stances), "pred": pred})
    # the rules do not depend on the blend: the last tagger's, once per list
    return out, [rule_tags(tagger.rule_votes(articles), tagger.topics, tagger.stances) for articles in arts]


def finetune_path(args, dev: list[dict], halves, queue_picks: list[list[int]], model_dir: Path, sample_data: Path,
                  tmp: Path, topics, stances) -> dict:
    """The loop as an analyst runs it: per half, ``newstag-build`` the bundled sample and the queue's first
    ``args.finetune`` articles of the review half with their gold labels (one gold file: the sample's labels and
    the decisions), ``newstag-train`` with ``configs/train.yaml``, and the model scored on the other half with
    each rule_blend; at 0 reviewed, the ``--model`` folder calibrated the same ways on the sample's validation
    split. Returns ``scores`` {"0" | "N": {blend: [score per half]}}, ``rules`` {"0" | "N": [the rules' tags per
    half]}, ``gold`` (the scored halves' articles, in that order) and ``seconds``."""
    import argparse

    cfg_args = argparse.Namespace(config=str(CONFIG), epochs=args.finetune_epochs, lr=None, batch_size=None,
                                  max_length=None, max_steps=None, extra=[])
    started = time.perf_counter()
    pairs = list(zip((halves, halves[::-1]), queue_picks))
    tests = [[dev[i] for i in score] for (_, score), _ in pairs]
    first, first_rules = blends_scored(model_dir, dataset_rows(sample_data)["validation"], cfg_args, tests, topics,
                                       stances)
    got = {"0": first, str(args.finetune): {b: [] for b in FINETUNE_BLENDS}}
    rules = {"0": first_rules, str(args.finetune): []}
    for k, ((review, _), picked) in enumerate(pairs):
        data = build_sample_plus([dev[review[i]] for i in picked[: args.finetune]], tmp, f"finetune{k}")
        run = train(data, tmp / f"finetune{k}_model", cfg_args)
        val = dataset_rows(data)["validation"]
        scored, rule_tags = blends_scored(run.model, val, cfg_args, [tests[k]], topics, stances)
        for blend, res in scored.items():
            got[str(args.finetune)][blend] += res
        rules[str(args.finetune)] += rule_tags
    return {"scores": got, "rules": rules, "gold": [a for t in tests for a in t],
            "seconds": time.perf_counter() - started}


def product_against_rules(product: dict, model: str, topics, stances) -> list[tuple[str, tuple[str, str]]]:
    """Each blend of the product path minus the rules, over both scored halves together (each dev article scored
    once, by the model that did not see it): the difference with its paired-bootstrap interval. Returns (printed
    line, (metric, value))."""
    gold = product["gold"]
    gold_topics, gold_stance = [set(a["topics"]) for a in gold], [a["stance"] for a in gold]

    def joined(parts):  # per half (topic sets, stances) -> the same over both halves, in order
        return [x for p in parts for x in p[0]], [x for p in parts for x in p[1]]

    out = []
    for n, by_blend in product["scores"].items():
        rules = joined(product["rules"][n])
        where = f"the {model} folder" if n == "0" else f"newstag-train on the sample + {n} reviewed"
        for blend, halves in by_blend.items():
            boot = paired_bootstrap(gold_topics, gold_stance, joined([h["pred"] for h in halves]), rules, topics,
                                    stances)
            for key, label in (("topic_micro_f1", "topic micro-F1"), ("stance_macro_f1", "stance macro-F1")):
                value = bootstrap_line(boot, key)
                name = f"product path, {where}, rule_blend {blend} minus the rules (both halves): {label}"
                out.append((f"  {name}: {value}", (name, value)))
    return out


def chosen(queue, gold: list[dict], mode: str, budget: int) -> list[int]:
    """The simulated analyst: ``budget`` articles picked one by one by the queue and decided with gold labels."""
    picked = []
    while len(picked) < budget and (i := queue.next(mode)) is not None:
        queue.decide(i, gold[i]["topics"])
        picked.append(i)
    return picked


# ---- the review step over HTTP --------------------------------------------------------------------------------
def step_latency(tagger, model_id: str, tmp: Path, steps: int) -> dict:
    """p50/p95 ms of POST decision + GET next against the review app on 127.0.0.1 (the sample, unlabeled), and of
    the same step in-process on a second gold file."""
    import httpx

    from inference.serve import ServerThread
    from training.reviewer.app import create_review_app
    from training.reviewer.session import ReviewSession

    data = build([SAMPLE / d for d in ("pages", "feeds", "html")], tmp / "sample_unlabeled")  # no labels.jsonl
    start = time.perf_counter()
    session = ReviewSession.open(data, tmp / "gold.jsonl", tagger, model_id, "bench")
    open_s = time.perf_counter() - start
    times = []
    with ServerThread(create_review_app(session, token="t")) as url, \
            httpx.Client(base_url=url, headers={"x-review-token": "t"}, timeout=60) as client:
        view = client.get("/api/next", params={"client": "b"}).json()["article"]
        for _ in range(steps):
            t0 = time.perf_counter()
            r = client.post("/api/decision", json={"id": view["id"], **view["suggested"], "client": "b"})
            view = client.get("/api/next", params={"client": "b"}).json()["article"]
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200 and view is not None
    lines = len((tmp / "gold.jsonl").read_text(encoding="utf-8").splitlines())
    assert lines == steps, f"{lines} gold lines after {steps} steps"
    direct = ReviewSession.open(data, tmp / "gold-direct.jsonl", tagger, model_id, "bench")  # the cache: at once
    inner, view = [], direct.next_view("b")
    for _ in range(steps):
        t0 = time.perf_counter()
        direct.decide(view["id"], **view["suggested"], client="b")
        view = direct.next_view("b")
        inner.append(time.perf_counter() - t0)
    ms, inner_ms = np.array(times) * 1000, np.array(inner) * 1000
    return {"review step p50 ms": round(float(np.percentile(ms, 50)), 1),
            "review step p95 ms": round(float(np.percentile(ms, 95)), 1),
            "review step in-process p50 ms": round(float(np.percentile(inner_ms, 50)), 1),
            "review step in-process p95 ms": round(float(np.percentile(inner_ms, 95)), 1), "review steps timed": steps,
            "review pool articles": len(session.rows), "review start s (score the pool, no cache)": round(open_s, 1)}


def plot(curves: dict, refs: dict, sample_size: int, png: Path, product: dict | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 6.2))
    for ax, key, title in zip(axes, ("topic", "stance"), ("topic micro-F1", "stance macro-F1")):
        head = curves[COMPOSITIONS[0]]
        for name, style in zip(SELECTIONS, ("o-", "^:", "s--")):
            mean = [head[name][b][key][0] for b in BUDGETS]
            ax.plot(BUDGETS, mean, style, label=f"{name} (selection), {COMPOSITIONS[0]} with the rules")
            if name == "random":
                sd = [head[name][b][key][1] for b in BUDGETS]
                ax.fill_between(BUDGETS, np.subtract(mean, sd), np.add(mean, sd), alpha=0.2)
        for name, style in zip(("queue", "random"), ("o-", "s--")):
            ax.plot(BUDGETS, [curves["heads alone"][name][b][key][0] for b in BUDGETS], style, alpha=0.45,
                    color="tab:red" if name == "queue" else "tab:purple", label=f"{name}, heads alone")
        for blend, marker in zip(FINETUNE_BLENDS, ("D", "P", "X")) if product else ():
            points = [(int(n), np.mean([r["topic_micro_f1" if key == "topic" else "stance_macro_f1"]
                                        for r in by_blend[blend]])) for n, by_blend in product["scores"].items()]
            ax.plot(*zip(*points), marker, markersize=8, color="black", alpha=0.8 if blend == "rules_first" else 0.4,
                    label=f"newstag-train on the sample + the queue's, rule_blend {blend}")
        for (name, value), ls in zip(refs[key].items(), (":", "-.")):
            ax.axhline(value, linestyle=ls, color="grey", label=name)
        ax.set_xlabel(f"reviewed real articles (plus the bundled sample's {sample_size} hand-labeled ones)")
        ax.set_title(title + " on the other half of the dev set")
        ax.set_xticks(BUDGETS)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    save_plot(fig, png, rect=(0, 0.22, 1, 1))


def dev_and_model(args, hint: str, also: Sequence[str] = ()) -> tuple[Path, Path, Path] | None:
    """(shared folder, its real dev file, the ``--model`` folder); None, after a ``skipped: ...`` line, where the
    dev file (or a path of ``also`` under the shared folder) is missing or ``--model`` is not a model folder
    (``hint`` says what to do)."""
    shared = shared_dir(args.shared)
    dev_file, model_dir = shared / "gold" / "real_dev.jsonl", Path(args.model)
    if skip_if_missing([dev_file, *(shared / a for a in also)]):
        return None
    if not (model_dir / "tagger.json").is_file():
        print(f"skipped: {model_dir} is not a model folder ({hint})")
        return None
    return shared, dev_file, model_dir


def main(argv=None) -> int:
    args = parse_args(argv)
    if (found := dev_and_model(args, "run make demo, or pass --model")) is None:
        return 0
    shared, dev_file, model_dir = found
    from inference import Tagger, model_folder
    from inference.blend import RuleVotes
    from training import dataset_folder
    from training.reviewer.queue import ReviewQueue, Signals, near_groups
    from training.reviewer.signals import pool_embeddings, pool_signals

    started = time.perf_counter()
    tagger = Tagger.from_pretrained(model_dir, device="cpu")
    model_id = model_folder.model_id(model_dir)
    dev = read_jsonl(dev_file)
    topics, stances = list(tagger.topics), list(tagger.stances)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sample_rows, schema, _ = dataset_folder.read_articles(build([SAMPLE], tmp / "sample", gold=SAMPLE_GOLD,
                                                                   labels=LABELS))
        sample = [r for r in sample_rows if r["gold"]]
        t0 = time.perf_counter()
        dev_articles = [(a["title"], a["text"]) for a in dev]
        signals, _ = pool_signals(dev_articles, schema, tagger, desc="dev: scores and evidence")
        groups = near_groups([f"{t}\n{x}" for t, x in dev_articles], 0.3)
        signals_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sample_articles = [(r["title"], r["text"]) for r in sample]
        sample_votes = tagger.rule_votes(sample_articles)
        x_sample = np.concatenate([pool_embeddings(tagger, sample_articles, 32),
                                   rule_features(sample_votes.margins, sample_votes.stance)], axis=1)
        x_dev = np.concatenate([signals.embeddings, rule_features(signals.margins, signals.rule_stance)], axis=1)
        features_s = time.perf_counter() - t0
        default_stance = stances.index(schema.default_stance)
        prior = np.array([sum(t in r["gold_topics"] for r in sample) for t in topics], dtype=float)

        order = np.random.default_rng(args.split_seed).permutation(len(dev))
        halves = (np.sort(order[: len(dev) // 2]), np.sort(order[len(dev) // 2:]))
        runs = {name: {b: [] for b in BUDGETS} for name in SELECTIONS}
        refs_runs = {"rules": [], "model": []}
        rare_found = {name: [] for name in SELECTIONS}
        queue_picks = []
        t0 = time.perf_counter()
        for review, score in (halves, halves[::-1]):
            sub = Signals(signals.topics, signals.stances, signals.margins[review], signals.need,
                          signals.rule_stance[review], signals.topic_p[review], signals.thresholds,
                          signals.stance_p[review], signals.embeddings[review])
            gold_r, gold_s = [dev[i] for i in review], [dev[i] for i in score]
            picks = signals.rule_stance_index[score]
            votes_s = RuleVotes(signals.margins[score], signals.rule_stance[score], [],
                                np.where(picks >= 0, picks, default_stance))
            gs = ([set(g["topics"]) for g in gold_s], [g["stance"] for g in gold_s])
            refs_runs["rules"].append(score_tags(gs[0], [{t for t, on in zip(topics, signals.rules_fired[i]) if on}
                                                          for i in score], gs[1],
                                                 [stances[k] if k >= 0 else schema.default_stance
                                                  for k in signals.rule_stance_index[score]], topics, stances))
            refs_runs["model"].append(score_tags(gs[0], [{t for t, on in zip(topics, signals.model_topics[i]) if on}
                                                          for i in score], gs[1],
                                                 [stances[int(signals.stance_p[i].argmax())] for i in score],
                                                 topics, stances))
            for name, seeds in zip(SELECTIONS, ([0], [0], list(range(args.random_seeds)))):
                for seed in seeds:
                    q = ReviewQueue(sub, [groups[i] for i in review], prior, len(sample), seed=seed,
                                    diversity=name != "queue without novelty")
                    picked = chosen(q, gold_r, "teach" if name == "queue" else "random", max(BUDGETS))
                    if name == "queue":
                        queue_picks.append(picked)
                    rare_found[name].append(sum(bool(set(gold_r[i]["topics"]) - {"armed_conflict"})
                                                for i in picked[:100]))
                    for b in BUDGETS:
                        got = [gold_r[i] for i in picked[:b]]
                        res = fit_and_score(np.concatenate([x_sample, x_dev[review][picked[:b]]]),
                                            [r["gold_topics"] for r in sample] + [g["topics"] for g in got],
                                            [r["gold_stance"] for r in sample] + [g["stance"] for g in got],
                                            [1.0] * len(sample) + [args.review_weight] * len(got), x_dev[score],
                                            votes_s, gold_s, args, topics, stances, default_stance)
                        runs[name][b].append(res)
        fit_s = time.perf_counter() - t0
        latency = step_latency(tagger, model_id, tmp, args.steps)
        product = (finetune_path(args, dev, halves, queue_picks, model_dir, tmp / "sample", tmp, topics, stances)
                   if args.finetune > 0 else None)

    def stat(results, key):
        vals = [r[key] for r in results]
        return float(np.mean(vals)), float(np.std(vals))

    curves = {c: {n: {b: {"topic": stat([r[c] for r in v], "topic_micro_f1"),
                          "stance": stat([r[c] for r in v], "stance_macro_f1")} for b, v in d.items()}
                  for n, d in runs.items()} for c in COMPOSITIONS}
    refs = {"topic": {f"the rules ({stat(refs_runs['rules'], 'topic_micro_f1')[0]:.3f})":
                      stat(refs_runs["rules"], "topic_micro_f1")[0],
                      f"the --model folder as it is ({stat(refs_runs['model'], 'topic_micro_f1')[0]:.3f})":
                      stat(refs_runs["model"], "topic_micro_f1")[0]},
            "stance": {f"the rules ({stat(refs_runs['rules'], 'stance_macro_f1')[0]:.3f})":
                       stat(refs_runs["rules"], "stance_macro_f1")[0],
                       f"the --model folder as it is ({stat(refs_runs['model'], 'stance_macro_f1')[0]:.3f})":
                       stat(refs_runs["model"], "stance_macro_f1")[0]}}
    metrics = {"dev articles": len(dev), "halves": f"{len(halves[0])} / {len(halves[1])} (seed {args.split_seed})",
               "sample articles (hand labels)": len(sample), "random seeds": args.random_seeds,
               "retrained model": f"probe heads (L2 {args.l2:g}, reviewed weight {args.review_weight:g}) on the "
                                  f"frozen {args.model} encoder's first-window features + rule votes, tagging with "
                                  "the rules as the union blend does (rules' topics stand, heads add theirs at 0.5, "
                                  "the rules' stance where they pick one); beside it the heads alone and rules first "
                                  "(heads add at 0.99)"}
    head = COMPOSITIONS[0]
    for b in BUDGETS:
        for c in COMPOSITIONS:
            for name in SELECTIONS if c == head else ("queue", "random"):
                for key, label in (("topic", "topic micro-F1"), ("stance", "stance macro-F1")):
                    mean, sd = curves[c][name][b][key]
                    metrics[f"{c}: {name} {b} reviewed {label}"] = round(mean, 4)
                    if name == "random" and c == head:
                        metrics[f"{c}: {name} {b} reviewed {label} sd"] = round(sd, 4)
    for key, label in (("topic_micro_f1", "topic micro-F1"), ("stance_macro_f1", "stance macro-F1")):
        metrics[f"rules {label}"] = round(stat(refs_runs["rules"], key)[0], 4)
        metrics[f"{args.model} as it is {label}"] = round(stat(refs_runs["model"], key)[0], 4)
    for other in ("random", "queue without novelty"):
        for b in (25, 50, 100):
            for key, label in (("topic", "topic micro-F1"), ("stance", "stance macro-F1")):
                metrics[f"{head}: queue minus {other} at {b}, {label} (points)"] = round(
                    100 * (curves[head]["queue"][b][key][0] - curves[head][other][b][key][0]), 1)
    metrics["of the first 100 picked, articles with a topic other than armed_conflict (" + " / ".join(SELECTIONS)
            + " mean)"] = " / ".join(f"{np.mean(rare_found[name]):.1f}" for name in SELECTIONS)
    if product:
        for n, by_blend in product["scores"].items():
            for blend, results in by_blend.items():
                for key, label in (("topic_micro_f1", "topic micro-F1"), ("stance_macro_f1", "stance macro-F1")):
                    where = f"the {args.model} folder" if n == "0" else f"newstag-train on the sample + {n} reviewed"
                    metrics[f"product path, {where}, rule_blend {blend}: {label}"] = round(stat(results, key)[0], 4)
        for line, (key, value) in product_against_rules(product, args.model, topics, stances):
            print(line)
            metrics[key] = value
        metrics["product path s"] = round(product["seconds"], 1)
    metrics.update(latency)
    metrics.update({"dev signals s": round(signals_s, 1), "features s": round(features_s, 1),
                    "fits s": round(fit_s, 1), "benchmark wall min": round((time.perf_counter() - started) / 60, 2)})
    png = (Path(tempfile.gettempdir()) if args.no_record else PLOTS) / "review_learning_curve.png"
    plot(curves, refs, len(sample), png, product)
    print(f"plot: {png}")
    return finish(NAME, metrics, args.no_record, plots=[] if args.no_record else [png])


if __name__ == "__main__":
    sys.exit(main())
