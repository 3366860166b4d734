"""Calibration after fine-tuning, on the validation split: one temperature per head (Guo et al. 2017) and one
decision threshold per topic, set on the ``Tagger`` in memory (the model folder is saved once, afterwards)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from inference.blend import MODEL_ALONE_P, RULE_KINDS, RuleBlend, RuleVotes
from inference.errors import NewstagError
from inference.scores import sigmoid, softmax
from inference.tagger import Tagger

from .metrics import fit_temperature, stance_ece, topic_ece, tunable, tune_thresholds


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
    t_cal, s_cal = t_logits / t_temp, s_logits / s_temp
    after = {"topic_ece": topic_ece(sigmoid(t_cal), y), "stance_ece": stance_ece(softmax(s_cal), s)}
    keep = blend_rows(rows, cfg.rule_blend, bool(tagger.rule_schema.rules))
    fallback = None  # why a fitted stance was not fitted, for train_metrics.json
    default_stance = tagger.stances.index(tagger.rule_schema.default_stance)
    if isinstance(keep, str):  # the union of rules and model, or the rules first: nothing to fit
        blend = RuleBlend.union(len(tagger.stances), default_stance, keep)
        votes = None
    else:
        votes = tagger.rule_votes(articles) if keep is not None else None  # once: to fit, then to tune thresholds
        blend = (fit_blend(votes, keep, y, s, t_cal, s_cal, len(tagger.stances), cfg.stance_blend)
                 if votes is not None else None)
        if blend is not None:
            blend = replace(blend, default_stance=default_stance)
            if blend.stance_kind != cfg.stance_blend:  # fitted asked for, one stance in the hand labels
                fallback = "stance_blend fitted: the validation hand labels hold a single stance; the rules' stance"
    tagger.set_blend(blend)
    # a union's thresholds are the model's own: where the rules are silent, the model alone decides
    probs = sigmoid(blend.topic_logits(t_cal, votes)) if votes is not None and blend else sigmoid(t_cal)
    first = blend is not None and blend.kind == "rules_first"
    tune = cfg.tune_thresholds and not first
    if first:  # the model alone adds a topic only when it is sure
        thresholds = [MODEL_ALONE_P] * len(tagger.topics)
    else:
        thresholds = tune_thresholds(probs, y, cfg.min_positives_for_threshold) if tune else [0.5] * len(tagger.topics)
    tuned = [t for t, ok in zip(tagger.topics, tunable(y, cfg.min_positives_for_threshold)) if ok] if tune else []
    info = {"validation_examples": len(rows), "before": before, "after": after, "stance_fallback": fallback,
            "rule_blend": blend.to_manifest() if blend else None,
            # which thresholds were tuned; the others are 0.5 (too few validation positives, or tuning off), or
            # MODEL_ALONE_P under rules_first
            "tuned_thresholds": tuned, "min_positives_for_threshold": cfg.min_positives_for_threshold}
    tagger.set_calibration({"topic": t_temp, "stance": s_temp}, dict(zip(tagger.topics, thresholds)), info)
    return info | {"thresholds": tagger.config["thresholds"], "temperature": tagger.config["temperature"]}


def blend_rows(rows: list[dict], mode: str, has_rules: bool) -> np.ndarray | str | None:
    """Which validation articles ``rule_blend`` fits on (a mask), ``"union"`` for the union of rules and model
    (``union``, or ``auto`` with fewer than ``MIN_GOLD_FOR_BLEND`` gold articles: weak labels only, which a fitted
    blend would only copy), ``"rules_first"`` for the rules first, or None for no blend: ``mode`` none, no rules,
    or too few articles to fit on."""
    if mode not in BLEND_MODES:
        raise NewstagError(f"rule_blend: {mode!r} is not one of {', '.join(BLEND_MODES)}")
    gold = np.array([bool(r.get("gold")) for r in rows], dtype=bool)
    if mode == "auto":
        mode = "gold" if gold.sum() >= MIN_GOLD_FOR_BLEND else "union"
    if mode == "none" or not has_rules or not rows:
        return None
    if mode in RULE_KINDS:
        return mode
    keep = gold if mode == "gold" else np.ones(len(rows), dtype=bool)
    return keep if keep.sum() >= MIN_GOLD_FOR_BLEND else None


def fit_blend(votes: RuleVotes, keep: np.ndarray, y: np.ndarray, s: np.ndarray, topic_logits: np.ndarray,
              stance_logits: np.ndarray, n_stances: int, stance_blend: str = "fitted") -> RuleBlend | None:
    """Logistic regressions of the labels (``y`` topics, ``s`` stance indices) on (calibrated model logits, rule
    votes) over the ``keep`` articles: one shared over all topics, and with ``stance_blend`` "fitted" one
    multinomial for the stance. The stance fit is not class-weighted, so its bias keeps the stances' frequencies
    in hand-labeled news, where most articles are neutral: balanced weights, on top of the stance head's own
    class weights, made the demo model call 35% of real neutral articles critical or supportive (``bench_real``).

    With ``stance_blend`` "rules_first" no stance map is fitted (the rules' stance stands, see ``RuleBlend``);
    "fitted" falls back to it where the kept articles hold a single stance, which nothing can be fitted on.
    None only when the kept topic labels have a single class."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y[keep].ravel())) < 2:
        return None
    x = votes.topic_features(topic_logits)[keep].reshape(-1, 4)
    topic = LogisticRegression(C=1.0, fit_intercept=False, max_iter=1000).fit(x, y[keep].ravel())
    weights = np.zeros((n_stances, 2 * n_stances + 1))  # the columns of ``RuleVotes.stance_features``
    if stance_blend != "fitted" or len(set(s[keep])) < 2:
        return RuleBlend(topic.coef_[0], weights, int(keep.sum()), stance_kind="rules_first")
    xs = votes.stance_features(stance_logits)[keep]
    stance = LogisticRegression(C=1.0, fit_intercept=False, max_iter=1000).fit(xs, s[keep])
    if len(stance.classes_) == 2:  # a binary fit has one row: the second class against the first
        weights[stance.classes_[1]] = stance.coef_[0]
    else:
        weights[stance.classes_] = stance.coef_
    return RuleBlend(topic.coef_[0], weights, int(keep.sum()), stance_kind="fitted")


BLEND_MODES = ("auto", "gold", "all", "union", "rules_first", "none")
