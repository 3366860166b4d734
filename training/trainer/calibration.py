"""Calibration after fine-tuning, on the validation split: one temperature per head (Guo et al. 2017) and one
decision threshold per topic, set on the ``Tagger`` in memory (the model folder is saved once, afterwards)."""

from __future__ import annotations

import numpy as np

from inference.blend import RuleBlend
from inference.errors import NewstagError
from inference.scores import sigmoid, softmax
from inference.tagger import Tagger

from .metrics import fit_temperature, stance_ece, topic_ece, tune_thresholds


def targets(rows, topics, stances, gold_only=False):
    y = np.array([[t in (r["gold_topics"] if gold_only else r["topics"]) for t in topics] for r in rows], dtype=int)
    s = np.array([stances.index(r["gold_stance"] if gold_only else r["stance"]) for r in rows], dtype=int)
    return y.reshape(-1, len(topics)), s


MIN_GOLD_FOR_BLEND = 20


def calibrate(tagger: Tagger, val, cfg) -> dict:
    """Fit temperatures, the rules-and-model blend (``rule_blend``) and per-topic thresholds on the validation
    split, and set them on ``tagger``.

    Returns:
        What was fitted and the expected calibration error before and after, for ``train_metrics.json``.
    """
    rows = list(val)
    articles = [(r["title"], r["text"]) for r in rows]
    t_logits, s_logits, _ = tagger.logits(articles, batch_size=cfg.eval_batch_size)
    y, s = targets(rows, tagger.topics, tagger.stances)
    t_temp = fit_temperature(t_logits, y.astype(float), multilabel=True) if cfg.calibrate else 1.0
    s_temp = fit_temperature(s_logits, s, multilabel=False) if cfg.calibrate else 1.0
    before = {"topic_ece": topic_ece(sigmoid(t_logits), y), "stance_ece": stance_ece(softmax(s_logits), s)}
    after = {"topic_ece": topic_ece(sigmoid(t_logits / t_temp), y),
             "stance_ece": stance_ece(softmax(s_logits / s_temp), s)}
    tagger.set_calibration({"topic": t_temp, "stance": s_temp}, {t: 0.5 for t in tagger.topics}, {})
    blend = fit_blend(tagger, rows, articles, t_logits / t_temp, s_logits / s_temp, cfg.rule_blend)
    tagger.set_blend(blend)
    probs, _, _ = tagger.scores(articles, batch_size=cfg.eval_batch_size) if blend else (sigmoid(t_logits / t_temp),
                                                                                      None, None)
    thresholds = tune_thresholds(probs, y, cfg.min_positives_for_threshold) if cfg.tune_thresholds \
        else [0.5] * len(tagger.topics)
    info = {"validation_examples": len(rows), "before": before, "after": after,
            "rule_blend": blend.to_manifest() if blend else None}
    tagger.set_calibration({"topic": t_temp, "stance": s_temp}, dict(zip(tagger.topics, thresholds)), info)
    return info | {"thresholds": tagger.config["thresholds"], "temperature": tagger.config["temperature"]}


def fit_blend(tagger: Tagger, rows: list[dict], articles, topic_logits, stance_logits, mode: str) -> RuleBlend | None:
    """Logistic regressions of the labels on (calibrated model logits, rule votes): one shared over all topics,
    one multinomial for the stance (balanced classes). None when ``mode`` or the data say no blend."""
    from sklearn.linear_model import LogisticRegression

    if mode not in BLEND_MODES:
        raise NewstagError(f"rule_blend: {mode!r} is not one of {', '.join(BLEND_MODES)}")
    gold = np.array([bool(r.get("gold")) for r in rows])
    if mode == "auto":
        mode = "gold" if gold.sum() >= MIN_GOLD_FOR_BLEND else "none"
    if mode == "none" or not tagger.rule_schema.rules or not rows:
        return None
    keep = gold if mode == "gold" else np.ones(len(rows), dtype=bool)
    if keep.sum() < MIN_GOLD_FOR_BLEND:
        return None
    votes = tagger.rule_votes(articles)
    y, s = targets(rows, tagger.topics, tagger.stances)
    x = votes.topic_features(topic_logits)[keep].reshape(-1, 4)
    if len(set(y[keep].ravel())) < 2 or len(set(s[keep])) < 2:
        return None
    topic = LogisticRegression(C=1.0, fit_intercept=False, max_iter=1000).fit(x, y[keep].ravel())
    xs = votes.stance_features(stance_logits)[keep]
    stance = LogisticRegression(C=1.0, fit_intercept=False, class_weight="balanced", max_iter=1000).fit(xs, s[keep])
    weights = np.zeros((len(tagger.stances), xs.shape[1]))
    if len(stance.classes_) == 2:  # a binary fit has one row: the second class against the first
        weights[stance.classes_[1]] = stance.coef_[0]
    else:
        weights[stance.classes_] = stance.coef_
    return RuleBlend(topic.coef_[0], weights, int(keep.sum()))


BLEND_MODES = ("auto", "gold", "all", "none")
