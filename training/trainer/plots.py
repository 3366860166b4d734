"""PNG plots for the evaluation report: per-topic scores, stance confusion, PR curves, reliability curves."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> None:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def per_topic(metrics: dict, path: Path) -> None:
    """Precision, recall and F1 per topic, support in the tick labels, the legend above the bars."""
    plt = _plt()
    names = list(metrics["per_topic"])
    fig, ax = plt.subplots(figsize=(max(7.0, 1.1 * len(names) + 2), 4.4))
    w = 0.27
    x = np.arange(len(names))
    for k, key in enumerate(("precision", "recall", "f1")):
        ax.bar(x + (k - 1) * w, [metrics["per_topic"][n][key] for n in names], w, label=key.replace("f1", "F1"))
    ax.set_xticks(x, [f"{n.replace('_', chr(10))}\n(n={metrics['per_topic'][n]['support']})" for n in names],
                  fontsize=8)
    ax.set_ylim(0, 1.0)
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=9)
    fig.suptitle(f"per-topic scores: micro-F1 {metrics['topic_micro_f1']:.3f}, macro-F1 "
                 f"{metrics['topic_macro_f1']:.3f} (n: articles with the topic)", fontsize=11)
    fig.tight_layout()
    _save(plt, fig, path)


def confusion(matrix: list[list[int]], labels: list[str], path: Path, title: str) -> None:
    plt = _plt()
    m = np.array(matrix)
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(m, cmap="Blues")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color="black" if m[i, j] < m.max() / 2 else "white")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    _save(plt, fig, path)


def pr_curves(probs: np.ndarray, labels: np.ndarray, names: list[str], path: Path) -> None:
    """One small panel per topic: its precision-recall curve, average precision, positives, and the
    precision of guessing (the positive rate) as a dashed line."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    plt = _plt()
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 2.7 * rows), sharex=True, sharey=True, squeeze=False)
    aps = []
    for j, (ax, name) in enumerate(zip(axes.flat, names)):
        pos = int(labels[:, j].sum())
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.05)
        ax.grid(alpha=0.3)
        if pos == 0:
            ax.set_title(f"{name}\nno positive article", fontsize=9)
            continue
        p, r, _ = precision_recall_curve(labels[:, j], probs[:, j])
        ap = float(average_precision_score(labels[:, j], probs[:, j]))
        aps.append(ap)
        ax.plot(r, p, drawstyle="steps-post", lw=1.6)
        ax.axhline(pos / len(labels), color="grey", ls="--", lw=1)
        ax.set_title(f"{name}\nAP {ap:.3f}, {pos} positive", fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("recall")
    for ax in axes[:, 0]:
        ax.set_ylabel("precision")
    mean_ap = f"mean AP {np.mean(aps):.3f} over {len(aps)} topics with positives" if aps else "no positives"
    fig.suptitle(f"topic precision-recall curves ({mean_ap}; dashed: the positive rate)", fontsize=11)
    fig.tight_layout()
    _save(plt, fig, path)


def _wilson(k: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson interval of a proportion ``k / n``."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def reliability(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, bins: int = 10) -> None:
    """Reliability curves (mean predicted probability against observed frequency per bin, with the 95%
    interval of each bin's frequency) above the number of predictions in each bin."""
    plt = _plt()
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(6, 6.4), sharex=True, gridspec_kw={"height_ratios": [3, 1.2]})
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfectly calibrated")
    edges = np.linspace(0, 1, bins + 1)
    width = (edges[1] - edges[0]) / (len(curves) + 1)
    for k, (name, (conf, correct)) in enumerate(curves.items()):
        xs, ys, lo, hi, counts = [], [], [], [], []
        for a, b in zip(edges[:-1], edges[1:]):
            m = (conf >= a) & (conf <= b) if a == 0 else (conf > a) & (conf <= b)
            counts.append(int(m.sum()))
            if m.any():
                xs.append(conf[m].mean())
                ys.append(correct[m].mean())
                low, high = _wilson(correct[m].sum(), int(m.sum()))
                lo.append(max(0.0, ys[-1] - low))  # rounding can put a bound of 0 or 1 a hair inside
                hi.append(max(0.0, high - ys[-1]))
        line = ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", capsize=3, ms=4, lw=1.4,
                           label=f"{name}, {len(conf)} predictions")
        bars = hist.bar(edges[:-1] + (k + 0.5) * width, counts, width, color=line[0].get_color())
        hist.bar_label(bars, [str(c) if c else "" for c in counts], fontsize=7, padding=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("observed frequency")
    ax.set_title("reliability (whiskers: 95% interval of each bin's frequency; below: predictions per bin)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    hist.set_xlabel("predicted probability")
    hist.set_ylabel("predictions")
    hist.set_yscale("symlog", linthresh=10)
    hist.set_ylim(0, max(1, hist.get_ylim()[1]) * 2)
    hist.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    _save(plt, fig, path)
