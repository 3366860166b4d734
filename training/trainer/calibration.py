"""Calibration after fine-tuning, on the validation split: one temperature per head (Guo et al. 2017) and one
decision threshold per topic, set on the ``Tagger`` in memory (the model folder is saved once, afterwards)."""

from __future__ import annotations

import numpy as np

from inference.scores import sigmoid, softmax
from inference.tagger import Tagger

from .metrics import fit_temperature, stance_ece, topic_ece, tune_thresholds


def targets(rows, topics, stances, gold_only=False):
    y = np.array([[t in (r["gold_topics"] if gold_only else r["topics"]) for t in topics] for r in rows], dtype=int)
    s = np.array([stances.index(r["gold_stance"] if gold_only else r["stance"]) for r in rows], dtype=int)
    return y.reshape(-1, len(topics)), s


def calibrate(tagger: Tagger, val, cfg) -> dict:
    """Fit temperatures and per-topic thresholds on the validation split and set them on ``tagger``.

    Returns:
        What was fitted and the expected calibration error before and after, for ``train_metrics.json``.
    """
    rows = list(val)
    t_logits, s_logits, _ = tagger.logits([(r["title"], r["text"]) for r in rows], batch_size=cfg.eval_batch_size)
    y, s = targets(rows, tagger.topics, tagger.stances)
    t_temp = fit_temperature(t_logits, y.astype(float), multilabel=True) if cfg.calibrate else 1.0
    s_temp = fit_temperature(s_logits, s, multilabel=False) if cfg.calibrate else 1.0
    before = {"topic_ece": topic_ece(sigmoid(t_logits), y), "stance_ece": stance_ece(softmax(s_logits), s)}
    probs = sigmoid(t_logits / t_temp)
    after = {"topic_ece": topic_ece(probs, y), "stance_ece": stance_ece(softmax(s_logits / s_temp), s)}
    thresholds = tune_thresholds(probs, y, cfg.min_positives_for_threshold) if cfg.tune_thresholds \
        else [0.5] * len(tagger.topics)
    info = {"validation_examples": len(rows), "before": before, "after": after}
    tagger.set_calibration({"topic": t_temp, "stance": s_temp}, dict(zip(tagger.topics, thresholds)), info)
    return info | {"thresholds": tagger.config["thresholds"], "temperature": tagger.config["temperature"]}
