"""PNG plots for the evaluation report: per-topic scores, stance confusion, PR curves, reliability curves."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def per_topic(metrics: dict, path: Path) -> None:
    plt = _plt()
    names = list(metrics["per_topic"])
    fig, ax = plt.subplots(figsize=(10, 4))
    w = 0.27
    for k, key in enumerate(("precision", "recall", "f1")):
        ax.bar(np.arange(len(names)) + k * w, [metrics["per_topic"][n][key] for n in names], w, label=key)
    ax.set_xticks(np.arange(len(names)) + w, names, rotation=25, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"per-topic scores (micro-F1 {metrics['topic_micro_f1']:.3f}, macro-F1 {metrics['topic_macro_f1']:.3f})")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pr_curves(probs: np.ndarray, labels: np.ndarray, names: list[str], path: Path) -> None:
    from sklearn.metrics import precision_recall_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 5))
    for j, n in enumerate(names):
        if labels[:, j].sum() == 0:
            continue
        p, r, _ = precision_recall_curve(labels[:, j], probs[:, j])
        ax.plot(r, p, label=n)
    _finish(plt, fig, ax, path, "recall", "precision", "topic precision-recall curves")


def reliability(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, bins: int = 10) -> None:
    """One reliability curve per named (confidence, correct) pair, with the diagonal."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k--", lw=1)
    edges = np.linspace(0, 1, bins + 1)
    for name, (conf, correct) in curves.items():
        xs, ys = [], []
        for lo, hi in zip(edges[:-1], edges[1:]):
            m = (conf >= lo) & (conf <= hi) if lo == 0 else (conf > lo) & (conf <= hi)
            if m.sum() >= 1:
                xs.append(conf[m].mean())
                ys.append(correct[m].mean())
        ax.plot(xs, ys, "o-", label=name)
    _finish(plt, fig, ax, path, "predicted probability", "observed frequency", "reliability")


def _finish(plt, fig, ax, path: Path, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels, title and legend of a line plot, then save it and free the figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
