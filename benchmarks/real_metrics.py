"""Scoring for ``bench_real``: topic and stance figures of a set of tags against gold, per-rule coverage and
precision, a seeded sample balanced across corpora, near-copy detection, the table and the per-topic plot.

Pure functions on plain lists, so they are tested on tiny hand-made examples (``tests/benchmarks``).

Example:
    >>> s = score_tags([{"protest"}, set()], [{"protest"}, {"protest"}], ["neutral", "critical"],
    ...                ["neutral", "neutral"], ["protest"], ["critical", "neutral"])
    >>> s["topic_micro_f1"], s["stance_accuracy"]
    (0.6666666666666666, 0.5)
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from pathlib import Path

from .results import save_plot

WORD = re.compile(r"\w+")


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1, 0 where undefined (sklearn's ``zero_division=0``)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * tp / (2 * tp + fp + fn) if tp else 0.0)


def score_tags(gold_topics: Sequence[set], pred_topics: Sequence[set], gold_stance: Sequence[str],
               pred_stance: Sequence[str], topics: Sequence[str], stances: Sequence[str]) -> dict:
    """Topic and stance figures of one tagger (rules or a model) on labeled articles.

    Args:
        gold_topics, pred_topics: per article, the set of topic names (labels outside ``topics`` are ignored).
        gold_stance, pred_stance: per article, one stance name; a predicted stance outside ``stances``
            counts as wrong and is left out of the confusion matrix.
        topics, stances: the schema's label names, in order.
    Returns:
        ``topic_micro_f1`` / ``_precision`` / ``_recall``, ``topic_macro_f1`` (mean over ``topics``, a topic
        without gold or predicted articles scoring 0), ``per_topic`` (name -> precision, recall, f1,
        support, predicted), ``stance_accuracy``, ``stance_macro_f1``, ``per_stance`` (same keys),
        ``stance_confusion`` (rows gold, columns predicted, in ``stances`` order) and ``articles``.
    """
    n = len(gold_topics)
    if not (len(pred_topics) == len(gold_stance) == len(pred_stance) == n):
        raise ValueError("gold and predicted lists must have one entry per article")
    per_topic, tps, fps, fns = {}, 0, 0, 0
    for t in topics:
        tp = sum(t in g and t in p for g, p in zip(gold_topics, pred_topics))
        fp = sum(t not in g and t in p for g, p in zip(gold_topics, pred_topics))
        fn = sum(t in g and t not in p for g, p in zip(gold_topics, pred_topics))
        p, r, f = _prf(tp, fp, fn)
        per_topic[t] = {"precision": p, "recall": r, "f1": f, "support": tp + fn, "predicted": tp + fp}
        tps, fps, fns = tps + tp, fps + fp, fns + fn
    micro_p, micro_r, micro_f = _prf(tps, fps, fns)
    index = {s: i for i, s in enumerate(stances)}
    confusion = [[0] * len(stances) for _ in stances]
    for g, p in zip(gold_stance, pred_stance):
        if g not in index:
            raise ValueError(f"gold stance {g!r} is not one of {list(stances)}")
        if p in index:
            confusion[index[g]][index[p]] += 1
    per_stance = {}
    for s, i in index.items():
        tp = confusion[i][i]
        fp = sum(pred == s for pred in pred_stance) - tp
        fn = sum(g == s for g in gold_stance) - tp  # a prediction outside ``stances`` is a miss too
        p, r, f = _prf(tp, fp, fn)
        per_stance[s] = {"precision": p, "recall": r, "f1": f, "support": tp + fn, "predicted": tp + fp}
    correct = sum(confusion[i][i] for i in range(len(stances)))
    return {"topic_micro_f1": micro_f, "topic_micro_precision": micro_p, "topic_micro_recall": micro_r,
            "topic_macro_f1": sum(v["f1"] for v in per_topic.values()) / max(len(topics), 1),
            "per_topic": per_topic, "stance_accuracy": correct / n if n else 0.0,
            "stance_macro_f1": sum(v["f1"] for v in per_stance.values()) / max(len(stances), 1),
            "per_stance": per_stance, "stance_confusion": confusion, "articles": n}


def paired_bootstrap(gold_topics: Sequence[set], gold_stance: Sequence[str], a: tuple[Sequence[set], Sequence[str]],
                     b: tuple[Sequence[set], Sequence[str]], topics: Sequence[str], stances: Sequence[str],
                     reps: int = 2000, seed: int = 0) -> dict:
    """How sure a difference between two taggers on the same articles is: a paired bootstrap over articles.

    Each replicate draws the articles with replacement and scores both taggers on the same draw, so the
    interval is that of the difference itself (far narrower than two separate intervals would suggest).

    Args:
        a, b: per article, the predicted topic sets and stances of tagger A and tagger B (the figures are
            A minus B).
    Returns:
        ``topic_micro_f1`` and ``stance_macro_f1``, each ``{"diff", "low", "high", "a_better"}``: the
        difference on the articles as given (``score_tags``' figures), the 2.5 and 97.5 percentiles of the
        replicates' differences and the share of replicates where A scores higher; and ``reps``.
    """
    import numpy as np

    n = len(gold_topics)
    if not (len(gold_stance) == len(a[0]) == len(a[1]) == len(b[0]) == len(b[1]) == n) or not n:
        raise ValueError("gold and both taggers need one entry per article, and at least one article")
    g = np.array([[t in x for t in topics] for x in gold_topics])
    index = {s: i for i, s in enumerate(stances)}
    unknown = next((s for s in gold_stance if s not in index), None)
    if unknown is not None:
        raise ValueError(f"gold stance {unknown!r} is not one of {list(stances)}")
    gs = np.array([index[s] for s in gold_stance])
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=reps).astype(np.float64)
    counts = np.vstack([np.ones(n), counts])  # row 0: the articles as given

    def figures(pred_topics, pred_stance):
        p = np.array([[t in x for t in topics] for x in pred_topics])
        tp, fp, fn = ((counts @ m.sum(1)) for m in (g & p, ~g & p, g & ~p))
        micro = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=tp > 0)
        ps = np.array([index.get(s, -1) for s in pred_stance])
        f1 = []
        for i in range(len(stances)):
            stp, sfp, sfn = (counts @ m for m in ((gs == i) & (ps == i), (gs != i) & (ps == i), (gs == i) & (ps != i)))
            f1.append(np.divide(2 * stp, 2 * stp + sfp + sfn, out=np.zeros_like(stp), where=stp > 0))
        return micro, np.mean(f1, axis=0)

    out = {"reps": reps}
    for key, fa, fb in zip(("topic_micro_f1", "stance_macro_f1"), figures(*a), figures(*b)):
        d = fa - fb
        out[key] = {"diff": float(d[0]), "low": float(np.percentile(d[1:], 2.5)),
                    "high": float(np.percentile(d[1:], 97.5)), "a_better": float(np.mean(d[1:] > 0))}
    return out


def rule_tags(votes, topics: Sequence[str], stances: Sequence[str]) -> tuple[list[set], list[str]]:
    """The rules' own tags from a tagger's ``RuleVotes``: the topics whose summed votes reach their ``min_votes``
    (margin >= 0) and the stance the rules pick."""
    return ([{t for t, m in zip(topics, row) if m >= 0} for row in votes.margins],
            [stances[i] for i in votes.picks])


def bootstrap_line(boot: dict, key: str) -> str:
    """``+0.006 (95% interval -0.010 to +0.022; higher in 77% of 2000 resamples)``."""
    b = boot[key]
    return (f"{b['diff']:+.3f} (95% interval {b['low']:+.3f} to {b['high']:+.3f}; higher in "
            f"{100 * b['a_better']:.0f}% of {boot['reps']} resamples)")


def rule_stats(votes: Sequence[dict], gold_topics: Sequence[set], gold_stance: Sequence[str],
               rule_labels: dict[str, str], stances: Sequence[str]) -> dict[str, dict]:
    """Coverage and precision of each labeling function against gold.

    Args:
        votes: per article, the builder's ``{rule name: vote}`` (abstentions absent); an article the builder
            dropped has ``{}``.
        rule_labels: rule name -> the label it votes on, in the schema's order; a name in ``votes`` that is
            not there (``embedding:TOPIC``) is scored on the label after the colon.
    Returns:
        rule name -> ``label``, ``votes`` (articles it voted on), ``coverage`` (votes / articles) and
        ``precision``: the share of its votes that gold bears out (a +1 topic vote: gold has the topic; a -1
        vote: gold lacks it; a stance vote: gold has that stance); None for a rule that never voted.
    """
    names = list(rule_labels) + sorted({k for v in votes for k in v} - set(rule_labels))
    out = {}
    for name in names:
        label = rule_labels.get(name, name.split(":", 1)[-1])
        cast = right = 0
        for v, g, s in zip(votes, gold_topics, gold_stance):
            vote = v.get(name, 0)
            if not vote:
                continue
            cast += 1
            if label in stances:
                right += s == label
            else:
                right += (label in g) == (vote > 0)
        out[name] = {"label": label, "votes": cast, "coverage": cast / len(votes) if votes else 0.0,
                     "precision": right / cast if cast else None}
    return out


def balanced_sample(groups: dict[str, list], n: int, seed: int = 0) -> list:
    """A seeded random ``n`` items drawn as evenly as possible from each group (a small group gives all it
    has, the others make up the rest), groups in the given order, each group's items in their order."""
    rng = random.Random(seed)
    take = {g: 0 for g in groups}
    left = min(n, sum(len(v) for v in groups.values()))
    while left:
        open_groups = [g for g in groups if take[g] < len(groups[g])]
        share, extra = divmod(left, len(open_groups))
        for i, g in enumerate(open_groups):
            add = min(share + (i < extra), len(groups[g]) - take[g])
            take[g] += add
            left -= add
    out = []
    for g, items in groups.items():
        keep = set(rng.sample(range(len(items)), take[g]))
        out += [x for i, x in enumerate(items) if i in keep]
    return out


def shingles(text: str, size: int = 5) -> set[int]:
    """Hashes of the lowercased word ``size``-grams of ``text`` (the whole text when it is shorter)."""
    words = WORD.findall(text.lower())
    return {hash(tuple(words[i:i + size])) for i in range(max(len(words) - size + 1, 1))} if words else set()


class NearCopies:
    """Finds texts that are (near) copies of reference texts: at least ``min_share`` of a text's word
    5-grams occur in one reference text (1.0 for an exact copy, whitespace and case aside)."""

    def __init__(self, references: Sequence[str], min_share: float = 0.5):
        self.min_share = min_share
        self.index: dict[int, list[int]] = {}
        for i, text in enumerate(references):
            for h in shingles(text):
                self.index.setdefault(h, []).append(i)

    def __contains__(self, text: str) -> bool:
        grams = shingles(text)
        counts: dict[int, int] = {}
        for h in grams:
            for i in self.index.get(h, ()):
                counts[i] = counts.get(i, 0) + 1
        return bool(grams) and max(counts.values(), default=0) >= self.min_share * len(grams)


# ---- output ------------------------------------------------------------------------------------------------
def per_topic_table(results: dict[str, dict], topics: Sequence[str]) -> list[str]:
    """Lines of a per-topic table: support, then precision / recall / F1 of each tagger in ``results``."""
    names = list(results)
    w = max(20, *(len(n) for n in names))
    lines = [f"  {'topic':<22}{'gold':>5}" + "".join(f"  {n:>{w}}" for n in names),
             f"  {'':<27}" + "".join(f"  {'P / R / F1':>{w}}" for _ in names)]
    support = next(iter(results.values()))["per_topic"]
    for t in topics:
        cells = "".join(f"  {_prf_cell(results[n]['per_topic'][t]):>{w}}" for n in names)
        lines.append(f"  {t:<22}{support[t]['support']:>5}{cells}")
    for key, label in (("topic_micro_f1", "topic micro-F1"), ("topic_macro_f1", "topic macro-F1"),
                       ("stance_accuracy", "stance accuracy"), ("stance_macro_f1", "stance macro-F1")):
        lines.append(f"  {label:<27}" + "".join(f"  {results[n][key]:>{w}.3f}" for n in names))
    return lines


def _prf_cell(m: dict) -> str:
    return f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f}"


def confusion_line(result: dict, stances: Sequence[str]) -> str:
    """``gold critical -> critical 10, neutral 5, ...; gold ...`` (rows gold, counts per predicted stance)."""
    rows = result["stance_confusion"]
    return "; ".join(f"gold {g}: " + " ".join(f"{p[:4]} {rows[i][j]}" for j, p in enumerate(stances))
                     for i, g in enumerate(stances))


def plot_per_topic(results: dict[str, dict], topics: Sequence[str], path: Path, title: str) -> None:
    """Grouped bars of per-topic F1 (and micro-F1 over all topics), one bar per tagger; legend above the axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    support = next(iter(results.values()))["per_topic"]
    groups = [f"{t.replace('_', ' ')}\n({support[t]['support']})" for t in topics] + ["micro-F1\n(all topics)"]
    width = 0.8 / len(names)
    crowded = len(names) > 3  # four bars or more: the figure widens and the values stand upright
    fig, ax = plt.subplots(figsize=(max(8.0, (1.6 if crowded else 1.25) * len(groups)), 5.2 if crowded else 4.8))
    colors = plt.get_cmap("tab10").colors
    for k, name in enumerate(names):
        values = [results[name]["per_topic"][t]["f1"] for t in topics] + [results[name]["topic_micro_f1"]]
        xs = [i + (k - (len(names) - 1) / 2) * width for i in range(len(groups))]
        bars = ax.bar(xs, values, width * 0.92, label=name, color=colors[k % len(colors)])
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1, rotation=90 if crowded else 0)
    ax.axvline(len(topics) - 0.5, color="grey", lw=0.8, ls=":")
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylim(0, 1.12 if crowded else 1.05)
    ax.set_ylabel("F1 on the dev set")
    ax.set_xlabel("topic (gold articles)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, fontsize=10, pad=30 + 14 * (math.ceil(len(names) / 2) - 1) if crowded else 30)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2 if crowded else len(names), fontsize=8,
              frameon=False)
    save_plot(fig, path)
