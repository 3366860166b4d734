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
