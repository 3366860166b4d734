"""Rules and model blended at tagging time: the weights round-trip through the manifest, the blended scores are
what predict thresholds, and a tag names the rules that voted for it."""

from __future__ import annotations

import copy

import numpy as np

from inference import Tagger
from inference.blend import RuleBlend, RuleVotes

TRUCE = ("Truce holds in Aden", "A ceasefire agreed on Sunday held overnight, officials said. The truce was "
         "monitored by observers. Both sides said the ceasefire would be extended.")


def test_blend_round_trips_through_the_manifest():
    blend = RuleBlend(np.array([1.0, 2.0, 0.5, -1.0]), np.arange(21, dtype=float).reshape(3, 7), fitted_on=40)
    again = RuleBlend.from_manifest({"blend": blend.to_manifest()})
    assert np.array_equal(again.topic, blend.topic) and np.array_equal(again.stance, blend.stance)
    assert again.fitted_on == 40
    assert RuleBlend.from_manifest({}) is None


def test_topic_features_mark_what_the_rules_gave():
    votes = RuleVotes(margins=np.array([[0.0, -1.0, 5.0]]), stance=np.zeros((1, 3)), voters=[{}])
    x = votes.topic_features(np.array([[0.5, -2.0, 1.0]]))
    assert x.shape == (1, 3, 4)
    assert x[0, :, 1].tolist() == [1.0, 0.0, 1.0]  # fired at margin >= 0
    assert x[0, :, 2].tolist() == [0.0, -1.0, 3.0]  # margin clipped to 3
    assert x[0, :, 3].tolist() == [1.0, 1.0, 1.0]


def _rules_only(tagger: Tagger) -> Tagger:
    """A copy of the tagger whose blend ignores the model and follows the rules (fired -> logit +8)."""
    other = Tagger(tagger.model, tagger.tokenizer, copy.deepcopy(tagger.config), tagger.device)
    n = len(other.stances)
    stance = np.zeros((n, 2 * n + 1))
    stance[:, n:2 * n] = 4 * np.eye(n)
    other.set_blend(RuleBlend(np.array([0.0, 16.0, 0.0, -8.0]), stance, 1))
    return other


def test_a_blended_tag_names_the_rules_that_voted(tagger):
    rules = _rules_only(tagger)
    res = rules.predict(TRUCE)
    votes = rules.rule_votes([TRUCE])
    given = {t for j, t in enumerate(rules.topics) if votes.margins[0, j] >= 0}
    assert "ceasefire" in given
    assert set(res.topic_names) == given
    tag = next(t for t in res.topics if t.name == "ceasefire")
    assert tag.rules and set(tag.rules) == set(votes.voters[0]["ceasefire"])
    if tagger.blend is None:  # the model alone: no tag claims rules
        assert all(t.rules == () for t in tagger.predict(TRUCE).topics)


def test_scores_are_what_predict_reports(tagger):
    rules = _rules_only(tagger)
    topic_p, stance_p, _ = rules.scores([TRUCE])
    res = rules.predict(TRUCE, evidence=False)
    assert np.allclose([res.topic_scores[t] for t in rules.topics], topic_p[0], atol=1e-4)
    assert np.allclose([res.stance_probs[s] for s in rules.stances], stance_p[0], atol=1e-4)


def test_set_blend_none_gives_the_model_alone(tagger):
    rules = _rules_only(tagger)
    rules.set_blend(None)
    assert "blend" not in rules.config and rules.blend is None
    assert rules.predict(TRUCE, evidence=False).topic_scores == Tagger(
        tagger.model, tagger.tokenizer, {k: v for k, v in tagger.config.items() if k != "blend"},
        tagger.device).predict(TRUCE, evidence=False).topic_scores
