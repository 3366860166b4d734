"""The builder's ``report.md``: inputs, furniture check, boilerplate, duplicates, labeling functions, labels, splits."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..dataset_folder import PLOT_FILE, SPLITS, write_report


def _table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def lf_table(schema, lfs, rows: list[dict]) -> list[list]:
    """Snorkel-style summary per labeling function: coverage, overlaps, conflicts, accuracy against gold."""
    topics = set(schema.topic_names)
    n = max(len(rows), 1)
    votes = [json.loads(r["votes"]) for r in rows]
    out = []
    for lf in lfs:
        fired = [i for i, v in enumerate(votes) if lf.name in v]
        same_task = [o for o in lfs if o.name != lf.name and (o.label == lf.label if lf.label in topics
                                                              else o.label not in topics)]
        overlaps = conflicts = 0
        for i in fired:
            others = [(o, votes[i][o.name]) for o in same_task if o.name in votes[i]]
            overlaps += bool(others)
            if lf.label in topics:
                conflicts += any(v != lf.vote for _, v in others)
            else:
                conflicts += any(o.label != lf.label for o, _ in others)
        gold = [i for i in fired if rows[i]["gold"]]
        if lf.label in topics:
            right = sum((lf.label in rows[i]["gold_topics"]) == (lf.vote > 0) for i in gold)
        else:
            right = sum(rows[i]["gold_stance"] == lf.label for i in gold)
        acc = right / len(gold) if gold else "n/a"
        polarity = ("+" if lf.vote > 0 else "-") + lf.label
        out.append([lf.name, polarity, len(fired) / n, overlaps / n, conflicts / n, acc, len(gold)])
    return out


def label_table(schema, rows_by_split: dict[str, list[dict]]) -> tuple[list[list], list[list]]:
    """Counts per split, and weak labels against gold where gold exists (precision, recall, F1 / agreement)."""
    all_rows = [r for s in SPLITS for r in rows_by_split[s]]
    gold = [r for r in all_rows if r["gold"]]
    topic_rows = []
    for t in schema.topic_names + ["(none)"]:
        def has(labels, t=t):
            return not labels if t == "(none)" else t in labels

        counts = [sum(has(r["topics"]) for r in rows_by_split[s]) for s in SPLITS]
        tp = sum(has(r["weak_topics"]) and has(r["gold_topics"]) for r in gold)
        fp = sum(has(r["weak_topics"]) and not has(r["gold_topics"]) for r in gold)
        fn = sum(not has(r["weak_topics"]) and has(r["gold_topics"]) for r in gold)
        p = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        weak_n = sum(has(r["weak_topics"]) for r in all_rows)
        topic_rows.append([t, *counts, weak_n, tp + fn, p, rc, f1] if gold else [t, *counts, weak_n, "-", "-", "-", "-"])
    stance_rows = []
    for s_name in schema.stance_names:
        counts = [sum(r["stance"] == s_name for r in rows_by_split[s]) for s in SPLITS]
        g = [r for r in gold if r["gold_stance"] == s_name]
        agree = sum(r["weak_stance"] == s_name for r in g) / len(g) if g else "-"
        stance_rows.append([s_name, *counts, sum(r["weak_stance"] == s_name for r in all_rows), len(g), agree])
    return topic_rows, stance_rows


def weak_vs_gold(schema, rows: list[dict]) -> dict:
    """Micro-F1 of weak topics and accuracy of weak stance against gold, over gold rows."""
    gold = [r for r in rows if r["gold"]]
    if not gold:
        return {}
    tp = sum(len(set(r["weak_topics"]) & set(r["gold_topics"])) for r in gold)
    fp = sum(len(set(r["weak_topics"]) - set(r["gold_topics"])) for r in gold)
    fn = sum(len(set(r["gold_topics"]) - set(r["weak_topics"])) for r in gold)
    return {"gold_examples": len(gold), "topic_micro_f1": 2 * tp / max(2 * tp + fp + fn, 1),
            "stance_accuracy": sum(r["weak_stance"] == r["gold_stance"] for r in gold) / len(gold)}


def plot_distribution(schema, rows_by_split, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 1.3]}, sharey=True)
    names = schema.topic_names + ["(none)"]
    width = 0.8 / len(SPLITS)
    for k, s in enumerate(SPLITS):
        rows = rows_by_split[s]
        n = max(len(rows), 1)  # shares, so splits of different sizes compare: stratified, the bars match
        shares = [sum((t in r["topics"]) if t != "(none)" else not r["topics"] for r in rows) / n for t in names]
        axes[0].bar([i + (k - 1) * width for i in range(len(names))], shares, width, label=f"{s} ({len(rows)} articles)")
        stance = [sum(r["stance"] == st for r in rows) / n for st in schema.stance_names]
        axes[1].bar([i + (k - 1) * width for i in range(len(stance))], stance, width, label=s)
    axes[0].set_xticks(range(len(names)), names, rotation=30, ha="right")
    axes[0].set_ylabel("share of the split's articles")
    axes[0].set_title("topics per split (an article can have several)")
    axes[0].legend(fontsize=9)
    axes[1].set_xticks(range(len(schema.stance_names)), schema.stance_names)
    axes[1].set_title("stance per split")
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.tick_params(axis="y", labelleft=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _inputs_section(build, rows: list[dict], info: dict) -> list[str]:
    parts = [
        "# Dataset report", "",
        f"Fingerprint `{info['fingerprint']}`; built in {info['seconds']:.1f}s from {build.files} input(s).", "",
        "## Inputs", "",
        _table(["what", "count"], [
            ["input files", build.files], ["pages split into articles", len(build.pages)],
            ["articles read", build.records], ["records skipped", len(build.skipped)],
            ["files re-decoded (not UTF-8)", len(build.redecoded)],
            ["examples written", len(rows)]]), "",
    ]
    if build.redecoded:
        parts += ["Re-decoded files:", ""] + [f"- `{p}`: {enc}" for p, enc in sorted(build.redecoded.items())] + [""]
    if build.skipped:
        parts += ["Skipped records (the run went on):", ""] + [f"- {s}" for s in build.skipped] + [""]
    return parts


def _cleaning_section(build, rows: list[dict], furniture_left: Counter, exact: int, near: int) -> list[str]:
    """Furniture left in the text, boilerplate removed, duplicates found."""
    boiler_keys = build.boilerplate
    removals = sum(r.get("boilerplate_removed", 0) for r in rows) if rows and "boilerplate_removed" in rows[0] \
        else sum(boiler_keys.values())
    parts = ["## Furniture check", "", f"Known furniture lines left in article text: **{sum(furniture_left.values())}**",
             ""]
    parts += [f"- `{line}` x{n}" for line, n in furniture_left.most_common(10)] + [""]
    parts += ["## Cross-document boilerplate", "",
              f"{len(boiler_keys)} distinct repeated sentences removed, {removals} removals in all; articles touched: "
              f"{max(boiler_keys.values()) if boiler_keys else 0} at most per sentence.", ""]
    parts += [f"- \"{k[:110]}\" ({n} articles)" for k, n in sorted(boiler_keys.items(), key=lambda x: -x[1])[:8]] + [""]
    dup_clusters = [keys for keys in build.clusters.values() if len(keys) > 1]
    parts += ["## Duplicates", "",
              f"Exact duplicates: **{exact}**; near duplicates: **{near}**; clusters with more than one article: "
              f"{len(dup_clusters)}. Unless --keep-duplicates, one representative per cluster is kept; the others "
              "are listed in its `duplicates` column.", ""]
    return parts


def _labels_section(schema, lfs, rows_by_split, rows: list[dict], wg: dict, gold) -> list[str]:
    topic_rows, stance_rows = label_table(schema, rows_by_split)
    parts = ["## Labeling functions", "",
             "Coverage, overlaps and conflicts are fractions of all examples; accuracy is against gold "
             "where gold exists (n gold = examples with gold on which the function voted).", "",
             _table(["function", "votes", "coverage", "overlaps", "conflicts", "accuracy", "n gold"],
                    lf_table(schema, lfs, rows)), ""]
    parts += ["## Labels", "", "Final labels (gold where given, else weak) per split; weak labels against gold "
              "over all gold examples.", "",
              _table(["topic", *SPLITS, "weak total", "gold total", "weak P", "weak R", "weak F1"], topic_rows), "",
              _table(["stance", *SPLITS, "weak total", "gold total", "weak agreement"], stance_rows), ""]
    if wg:
        parts += [f"Weak labels against gold ({wg['gold_examples']} examples): topic micro-F1 "
                  f"**{wg['topic_micro_f1']:.3f}**, stance accuracy **{wg['stance_accuracy']:.3f}**.", ""]
    if gold is not None:
        parts += [f"Gold file `{gold.path}`: {len(gold)} lines, {len(gold.used)} matched an article, "
                  f"{gold.unmatched()} unmatched.", ""]
    return parts


def write_build_report(out: Path, schema, lfs, rows_by_split, build, gold, info, plots: bool = True) -> str:
    """Write ``report.md`` (and ``label_distribution.png``) from what the passes found (``build``); returns a
    short summary for the terminal."""
    rows = [r for s in SPLITS for r in rows_by_split[s]]
    furniture_left = Counter(line for r in rows for line in r["furniture"])
    exact = sum(1 for k in build.dedup.kind.values() if k == "exact")
    # every article of a cluster but one is a duplicate; union can fold an earlier article into a cluster
    near = sum(len(keys) - 1 for keys in build.clusters.values()) - exact
    wg = weak_vs_gold(schema, rows)
    parts = (_inputs_section(build, rows, info) + _cleaning_section(build, rows, furniture_left, exact, near)
             + _labels_section(schema, lfs, rows_by_split, rows, wg, gold))
    if plots:
        plot_distribution(schema, rows_by_split, out / PLOT_FILE)
        parts += ["## Splits", "", f"![label distribution]({PLOT_FILE})", ""]
    metrics = {"examples": len(rows), "skipped": len(build.skipped), "redecoded": len(build.redecoded),
               "furniture_left": sum(furniture_left.values()), "boilerplate_sentences": len(build.boilerplate),
               "exact_duplicates": exact, "near_duplicates": near, **{f"weak_{k}": v for k, v in wg.items()}}
    write_report(out, "\n".join(parts), metrics)
    summary = (f"articles {build.records}, skipped {len(build.skipped)}, re-decoded {len(build.redecoded)}, "
               f"furniture left {metrics['furniture_left']}, boilerplate sentences {len(build.boilerplate)}, "
               f"duplicates {exact} exact + {near} near")
    if wg:
        summary += (f"\nweak labels vs gold ({wg['gold_examples']}): topic micro-F1 {wg['topic_micro_f1']:.3f}, "
                    f"stance accuracy {wg['stance_accuracy']:.3f}")
    return summary
