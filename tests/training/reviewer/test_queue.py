"""The review queue's ranking on hand-made signals: uncertainty, disagreement, rarity, near duplicates, modes."""

import numpy as np
import pytest

from training.reviewer.queue import ReviewQueue, Signals, near_groups, rarity_weights

TOPICS = ("common", "rare")
STANCES = ("supportive", "critical", "neutral")


def signals(topic_p=None, margins=None, rule_stance=None, stance_p=None, thresholds=(0.5, 0.5)):
    n = len(topic_p if topic_p is not None else margins)
    margins = np.full((n, 2), -1.0) if margins is None else np.asarray(margins, float)
    rule_stance = np.zeros((n, 3)) if rule_stance is None else np.asarray(rule_stance, float)
    if topic_p is not None and stance_p is None:
        stance_p = np.tile([0.05, 0.05, 0.9], (n, 1))
    return Signals(TOPICS, STANCES, margins, np.ones(2), rule_stance,
                   None if topic_p is None else np.asarray(topic_p, float),
                   None if topic_p is None else np.asarray(thresholds, float),
                   None if stance_p is None else np.asarray(stance_p, float))


def queue(s, groups=None, counts=(0, 0), labeled=0, seed=0):
    return ReviewQueue(s, groups or [str(i) for i in range(len(s))], counts, labeled, seed)


def test_the_model_s_most_doubtful_article_comes_first():
    # rules agree with the model everywhere (margins follow the model's decisions), so only doubt differs
    p = [[0.02, 0.01], [0.98, 0.01], [0.48, 0.01], [0.9, 0.02]]
    margins = [[-1, -1], [0, -1], [-1, -1], [0, -1]]
    q = queue(signals(p, margins), counts=(5, 5), labeled=10)  # one rarity for both topics
    assert q.ranked() == [2, 3, 1, 0]


def test_rules_and_model_disagreeing_outranks_agreeing():
    p = [[0.9, 0.02], [0.9, 0.02]]
    margins = [[0, -1], [-1, -1]]  # the rules give "common" to article 0 only
    rule_stance = [[0, 0, 0], [0, 2, 0]]  # and a critical stance to article 1 (the model: neutral)
    q = queue(signals(p, margins, rule_stance, stance_p=[[0.05, 0.05, 0.9]] * 2))
    both = queue(signals(p, [[-1, -1], [-1, -1]], [[0, 2, 0], [0, 2, 0]]))
    # article 1: topic and stance disagree; article 0: the topic only
    assert q.priority()[1] > q.priority()[0]
    assert both.priority()[0] == pytest.approx(both.priority()[1])  # the same disagreement on both


def test_a_rare_topic_s_likely_articles_come_before_a_common_one_and_decisions_move_the_counts():
    p = [[0.95, 0.02], [0.02, 0.95], [0.02, 0.94]]
    margins = [[0, -1], [-1, 0], [-1, 0]]
    q = queue(signals(p, margins), counts=(40, 0), labeled=50)
    first = q.next()
    assert first in (1, 2)
    q.decide(first, ["rare"])
    assert q.counts.tolist() == [40, 1] and q.labeled == 51
    assert q.next() == 3 - first  # "rare" is still the rarer topic
    flipped = queue(signals(p, margins), counts=(40, 100), labeled=150)
    assert rarity_weights(flipped.counts, flipped.labeled)[1] < rarity_weights(flipped.counts, flipped.labeled)[0]
    assert flipped.next() == 0


def test_a_decided_article_s_near_duplicates_leave_the_queue():
    p = [[0.5, 0.5], [0.5, 0.5], [0.1, 0.1]]
    q = queue(signals(p, [[-1, -1]] * 3), groups=["g", "g", "h"])
    first = q.next()
    q.decide(first, [])
    assert q.ranked() == [2] and q.remaining() == 1


def test_skipped_articles_come_after_every_other_one():
    q = queue(signals([[0.5, 0.5], [0.1, 0.1], [0.05, 0.02]], [[-1, -1]] * 3))
    assert q.next() == 0
    q.skip(0)
    assert q.ranked() == [1, 2, 0]


def test_random_order_is_seeded_and_covers_every_article():
    s = signals(np.random.default_rng(3).random((30, 2)), np.full((30, 2), -1.0))
    a, b, c = queue(s, seed=1).ranked("random"), queue(s, seed=1).ranked("random"), queue(s, seed=2).ranked("random")
    assert a == b and a != c and sorted(a) == list(range(30))
    assert a != queue(s).ranked("teach")


def test_after_a_decision_an_article_unlike_it_outranks_a_slightly_more_doubtful_one_like_it():
    # doubt 0.98, 0.9, 0.8, 0.8; articles 0 and 1 point one way, 2 and 3 the other (the pool's mean is 0)
    p = [[0.49, 0.01], [0.45, 0.01], [0.40, 0.01], [0.40, 0.01]]
    vectors = np.array([[1.0, 0.1], [1.0, -0.1], [-1.0, 0.05], [-1.0, -0.05]])
    s = signals(p, [[-1, -1]] * 4)
    diverse = queue(Signals(*[getattr(s, f) for f in Signals.__dataclass_fields__ if f != "embeddings"], vectors),
                    counts=(5, 5), labeled=10)
    plain = queue(s, counts=(5, 5), labeled=10)
    assert diverse.novelty().tolist() == [1, 1, 1, 1] and diverse.ranked() == plain.ranked() == [0, 1, 2, 3]
    diverse.decide(0, [])
    plain.decide(0, [])
    assert diverse.novelty()[1] < 0.05 and diverse.novelty()[2] == diverse.novelty()[3] == 1
    assert diverse.next() in (2, 3) and plain.next() == 1
    off = ReviewQueue(diverse.signals, [str(i) for i in range(4)], (5, 5), 10, diversity=False)
    off.decide(0, [])
    assert off.next() == 1 and off.novelty().tolist() == [0, 0, 0, 0]


def test_topic_mode_offers_the_likeliest_articles_of_the_topic_first():
    q = queue(signals([[0.9, 0.1], [0.2, 0.8], [0.3, 0.6]], [[-1, -1]] * 3))
    assert q.ranked("topic", "rare") == [1, 2, 0]
    with pytest.raises(ValueError, match="unknown topic"):
        q.ranked("topic", "nope")
    with pytest.raises(ValueError, match="unknown mode"):
        q.ranked("sideways")


def test_without_a_model_partial_rule_votes_and_stance_conflicts_come_first():
    # votes = margin + 1: article 0 has no votes, 1 some but not enough (0.5 of 1), 2 plenty
    margins = [[-1, -1], [-0.5, -1], [2, -1], [-1, -1]]
    rule_stance = [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 0]]  # article 3: two stances voted
    q = queue(signals(margins=margins, rule_stance=rule_stance), counts=(5, 5), labeled=10)
    order = q.ranked()
    assert order.index(1) < order.index(0) and order.index(3) < order.index(0)
    assert q.signals.rule_stance_index.tolist() == [-1, -1, -1, -1]  # a tie is no rule stance


def test_near_groups_join_rewrites_and_clusters_and_keep_distinct_stories_apart():
    story = ("Government forces and rebels agreed to a truce in the north on Sunday after weeks of heavy fighting "
             "around the provincial capital, mediators said, and aid convoys were expected to move on Monday.")
    rewrite = story.replace("on Sunday", "late on Sunday").replace("mediators said", "the mediators said")
    other = ("The central bank left its main interest rate unchanged at four percent on Thursday, saying inflation "
             "had eased for a third month while growth stayed weak across the region.")
    assert len(set(near_groups([story, rewrite, other], 0.3))) == 2
    g = near_groups([story, rewrite, other], 0.3)
    assert g[0] == g[1] != g[2]
    assert near_groups([story, other, other + " x"], 1.0, clusters=["a", "b", "b"]) == ["c:a", "c:b", "c:b"]
