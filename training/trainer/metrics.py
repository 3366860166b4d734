"""Scores, calibration (temperature scaling) and per-topic thresholds, from logits and labels.

The ``evaluate`` package loads its metrics from the Hugging Face Hub at run time, which an offline
machine cannot reach, so the metrics here are scikit-learn's.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support


def fit_temperature(logits: np.ndarray, labels: np.ndarray, multilabel: bool) -> float:
    """One temperature minimizing the validation log-loss (Guo et al. 2017), by LBFGS on log T."""
    x = torch.tensor(logits, dtype=torch.float64)
    y = torch.tensor(labels, dtype=torch.float64 if multilabel else torch.long)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)
    loss_fn = torch.nn.BCEWithLogitsLoss() if multilabel else torch.nn.CrossEntropyLoss()

    def closure():
        opt.zero_grad()
        loss = loss_fn(x / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    t = float(log_t.detach().exp())
    return t if np.isfinite(t) and 0.05 < t < 20 else 1.0


def expected_calibration_error(probs: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (probs > lo) & (probs <= hi) if lo > 0 else (probs >= lo) & (probs <= hi)
        if m.any():
            ece += m.mean() * abs(probs[m].mean() - correct[m].mean())
    return float(ece)


def topic_ece(probs: np.ndarray, labels: np.ndarray) -> float:
    """ECE of the per-topic probabilities as binary forecasts."""
    return expected_calibration_error(probs.ravel(), labels.ravel().astype(float))


def stance_ece(probs: np.ndarray, labels: np.ndarray) -> float:
    conf = probs.max(1)
    return expected_calibration_error(conf, (probs.argmax(1) == labels).astype(float))


def tunable(labels: np.ndarray, min_positives: int = 10) -> np.ndarray:
    """Per topic, whether validation holds enough positives to tune its threshold (else it falls back)."""
    return labels.sum(0) >= min_positives


def tune_thresholds(probs: np.ndarray, labels: np.ndarray, min_positives: int = 10,
                    fallback: float = 0.5) -> list[float]:
    """Per topic, the threshold maximizing that topic's F1 on validation; ``fallback`` for rare topics."""
    grid = np.round(np.arange(0.05, 0.96, 0.025), 3)
    out = []
    for j, enough in enumerate(tunable(labels, min_positives)):
        if not enough:
            out.append(fallback)
            continue
        scores = [f1_score(labels[:, j], probs[:, j] >= t, zero_division=0) for t in grid]
        best = max(scores)
        # the middle of the best plateau is steadier than its edge
        ties = [t for t, s in zip(grid, scores) if s >= best - 1e-9]
        out.append(float(ties[len(ties) // 2]))
    return out


def score(topic_pred: np.ndarray, topic_true: np.ndarray, stance_pred: np.ndarray, stance_true: np.ndarray,
          topics: list[str], stances: list[str]) -> dict:
    """Topic micro/macro F1 with per-topic P/R/F1, stance accuracy/macro F1 and the confusion matrix."""
    p, r, f, support = precision_recall_fscore_support(topic_true, topic_pred, average=None, zero_division=0,
                                                       labels=list(range(len(topics))))
    out = {
        "topic_micro_f1": float(f1_score(topic_true, topic_pred, average="micro", zero_division=0)),
        "topic_macro_f1": float(f1_score(topic_true, topic_pred, average="macro", zero_division=0)),
        "stance_accuracy": float((stance_pred == stance_true).mean()) if len(stance_true) else 0.0,
        "stance_macro_f1": float(f1_score(stance_true, stance_pred, average="macro", zero_division=0,
                                          labels=list(range(len(stances))))),
        "per_topic": {t: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]),
                          "support": int(support[j])} for j, t in enumerate(topics)},
        "stance_confusion": confusion_matrix(stance_true, stance_pred, labels=list(range(len(stances)))).tolist(),
        "examples": int(len(stance_true)),
    }
    return out
