"""``benchmarks.bench_review``'s retrained heads tag alone or with the rules, as the tagger's blends combine them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from benchmarks.bench_review import COMPOSITIONS, fit_and_score

TOPICS = ["protest", "ceasefire"]
STANCES = ["supportive", "critical", "neutral"]


def test_the_union_keeps_the_rules_topics_and_stance_where_the_heads_say_nothing():
    from inference.blend import RuleVotes

    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(60, 4))
    # the heads learn "no topic, neutral" from every training article
    scores = fit_and_score(x_train, [[] for _ in range(60)], ["neutral"] * 60, [1.0] * 60, rng.normal(size=(2, 4)),
                           RuleVotes(margins=np.array([[0.0, -1.0], [-1.0, -1.0]]), stance=np.zeros((2, 3)),
                                     voters=[{}, {}], picks=np.array([2, 1])),
                           [{"topics": ["protest"], "stance": "neutral"}, {"topics": [], "stance": "critical"}],
                           SimpleNamespace(l2=1e-2), TOPICS, STANCES, default_stance=2)
    assert set(scores) == set(COMPOSITIONS)
    # the rules give protest on the first and critical on the second: both right; the heads alone miss both
    for name in ("union", "rules first"):
        assert scores[name]["topic_micro_f1"] == 1.0 and scores[name]["stance_accuracy"] == 1.0
    assert scores["heads alone"]["topic_micro_f1"] == 0.0 and scores["heads alone"]["stance_accuracy"] == 0.5


def test_the_product_path_is_compared_with_the_rules_over_both_halves_together():
    from benchmarks.bench_review import product_against_rules

    topics, stances = ["protest", "ceasefire"], ["supportive", "critical", "neutral"]
    gold = [{"topics": ["protest"], "stance": "critical"}] * 4 + [{"topics": [], "stance": "neutral"}] * 4
    # per half (4 articles each), the tags: the blend finds every protest, the rules only those of the first half
    right = ([{"protest"}] * 2 + [set()] * 2, ["critical"] * 2 + ["neutral"] * 2)
    rules_half = [([{"protest"}] * 2 + [set()] * 2, ["critical"] * 2 + ["neutral"] * 2),
                  ([set()] * 4, ["neutral"] * 4)]
    halves = [{"pred": right}, {"pred": right}]
    product = {"gold": gold[:2] + gold[4:6] + gold[2:4] + gold[6:], "rules": {"10": rules_half},
               "scores": {"10": {"gold": halves}}}
    lines = dict(kv for _, kv in product_against_rules(product, "runs/m", topics, stances))
    topic = lines["product path, newstag-train on the sample + 10 reviewed, rule_blend gold minus the rules (both "
                  "halves): topic micro-F1"]
    # the blend is right on all 8, the rules miss 2 of 4 protests: F1 1.0 against 2/3
    assert topic.startswith("+0.333 (95% interval")
    assert len(lines) == 2
