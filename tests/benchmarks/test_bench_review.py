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
    # half one: 3 protests of 4 articles, half two: 1 of 4; the blend is right everywhere, the rules find the
    # protests of half one only, so a swap of the halves' rule tags (or of gold) would change the figure
    first = [{"topics": ["protest"], "stance": "critical"}] * 3 + [{"topics": [], "stance": "neutral"}]
    second = [{"topics": ["protest"], "stance": "critical"}] + [{"topics": [], "stance": "neutral"}] * 3
    tags = [([set(g["topics"]) for g in half], [g["stance"] for g in half]) for half in (first, second)]
    rules_half = [tags[0], ([set()] * 4, ["neutral"] * 4)]
    product = {"gold": first + second, "rules": {"10": rules_half},
               "scores": {"10": {"gold": [{"pred": tags[0]}, {"pred": tags[1]}]}}}
    lines = dict(kv for _, kv in product_against_rules(product, "runs/m", topics, stances))
    name = "product path, newstag-train on the sample + 10 reviewed, rule_blend gold minus the rules (both halves): "
    # the blend: F1 1.0; the rules: 3 of 4 protests, F1 6/7; swapped, 1 right, 2 wrong and 3 missed: F1 2/7
    assert lines[name + "topic micro-F1"].startswith(f"{1 - 6 / 7:+.3f} (95% interval")
    swapped = dict(product, rules={"10": rules_half[::-1]})
    assert dict(kv for _, kv in product_against_rules(swapped, "runs/m", topics, stances))[
        name + "topic micro-F1"].startswith(f"{1 - 2 / 7:+.3f} (95% interval")
    assert len(lines) == 2
