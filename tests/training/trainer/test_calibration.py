"""Which validation articles the rules-and-model blend is fitted on, and the one error for an unknown mode."""

from __future__ import annotations

import numpy as np
import pytest

from inference.errors import NewstagError
from training.trainer.calibration import MIN_GOLD_FOR_BLEND, blend_rows, calibrate

N = MIN_GOLD_FOR_BLEND


def _rows(gold: int, weak: int) -> list[dict]:
    return [{"gold": True}] * gold + [{"gold": False}] * weak


def test_auto_fits_on_the_gold_articles_when_there_are_enough():
    keep = blend_rows(_rows(N, 5), "auto", has_rules=True)
    assert keep.tolist() == [True] * N + [False] * 5


def test_auto_without_enough_gold_gives_the_union():
    assert blend_rows(_rows(N - 1, 100), "auto", has_rules=True) == "union"
    assert blend_rows(_rows(N, 100), "union", has_rules=True) == "union"
    assert blend_rows(_rows(0, 100), "auto", has_rules=False) is None


def test_the_union_gives_the_rules_topics_and_stance_and_the_model_the_rest_of_the_topics():
    from inference.blend import UNION_P, RuleBlend, RuleVotes
    from inference.rules import rule_stance
    from inference.scores import sigmoid, softmax

    # 3 articles, 2 topics; stances supportive, critical, neutral (the default, index 2)
    names, scores = ["s", "c", "n"], np.array([[0, 1.0, 0.75], [0, 0, 0.25], [1.0, 1.0, 0]])
    picks = np.array([names.index(rule_stance(dict(zip(names, row)), "n")) for row in scores])
    votes = RuleVotes(margins=np.array([[0.0, -1.0], [-1.0, -1.0], [2.0, -0.5]]), stance=scores, voters=[{}] * 3,
                      picks=picks)
    model = np.array([[-5.0, -5.0], [3.0, -5.0], [6.0, -5.0]])
    blend = RuleBlend.from_manifest({"stances": ["s", "c", "n"], "blend": RuleBlend.union(3, 2).to_manifest()})
    p = sigmoid(blend.topic_logits(model, votes))
    assert p[0, 0] >= UNION_P - 1e-9 and p[1, 0] == pytest.approx(sigmoid(3.0))  # rules give it / the model does
    assert p[2, 0] == pytest.approx(sigmoid(6.0)) and (p[:, 1] < 0.01).all()  # the higher of the two; neither
    sure = np.log(0.995 / 0.0025)
    stance_model = np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 0.0], [sure, 0.0, 0.0]])
    calls = softmax(blend.stance_logits(stance_model, votes)).argmax(1)
    # the rules' critical wins; where the rules leave the default (the second) or tie (the third) the default
    # stands unless the model is sure of another (the third: supportive at 0.995)
    assert calls.tolist() == [1, 2, 0]


def test_rules_first_gives_the_rules_tags_and_the_model_only_what_it_is_sure_of():
    from inference.blend import FIRST_P, MODEL_ALONE_P, RuleBlend, RuleVotes
    from inference.scores import sigmoid, softmax

    assert blend_rows(_rows(N, 100), "rules_first", has_rules=True) == "rules_first"
    # 4 articles, 2 topics; stances supportive, critical, neutral (the default, index 2)
    picks = np.array([1, 2, 2, 2])  # the rules: critical on the first, the default elsewhere
    votes = RuleVotes(margins=np.array([[0.0, -1.0], [-1.0, -1.0], [-1.0, -2.0], [-0.5, -1.0]]),
                      stance=np.zeros((4, 3)), voters=[{}] * 4, picks=picks)
    sure, unsure = np.log(0.995 / 0.005), np.log(0.95 / 0.05)
    model = np.array([[-5.0, -5.0], [unsure, -5.0], [sure, -5.0], [-5.0, -5.0]])
    manifest = RuleBlend.union(3, 2, "rules_first").to_manifest()
    blend = RuleBlend.from_manifest({"stances": ["s", "c", "n"], "blend": manifest})
    assert blend.kind == "rules_first" and manifest["model_alone_p"] == MODEL_ALONE_P
    given = sigmoid(blend.topic_logits(model, votes)) >= MODEL_ALONE_P  # rules_first's thresholds
    # the rules' topic (at FIRST_P, above the threshold); the model's 0.95 alone is not enough, its 0.995 is
    assert given[:, 0].tolist() == [True, False, True, False] and not given[:, 1].any()
    assert sigmoid(blend.topic_logits(model, votes))[0, 0] >= FIRST_P - 1e-9
    stance_model = np.array([[0.0, 0.0, 3.0],  # the rules' critical beats the model's neutral
                             [np.log(0.95 / 0.025), 0.0, 0.0],  # the model at 0.95 supportive: the default stands
                             [0.0, np.log(0.995 / 0.0025), 0.0],  # the model sure of critical: its call
                             [0.0, 0.0, 1.0]])  # both say neutral
    calls = softmax(blend.stance_logits(stance_model, votes)).argmax(1)
    assert calls.tolist() == [1, 2, 1, 2]


def test_all_fits_on_every_article_and_none_on_none():
    assert blend_rows(_rows(0, N), "all", has_rules=True).all()
    assert blend_rows(_rows(N, N), "none", has_rules=True) is None


def test_no_rules_gives_no_blend():
    assert blend_rows(_rows(N, 0), "gold", has_rules=False) is None


def test_unknown_mode_names_the_allowed_ones():
    with pytest.raises(NewstagError, match="rule_blend: 'sometimes' is not one of auto, gold, all, union, rules_first, none"):
        blend_rows(_rows(N, 0), "sometimes", has_rules=True)
    assert isinstance(blend_rows(_rows(N, 0), "gold", has_rules=True), np.ndarray)


def test_the_stance_blend_keeps_the_label_frequencies():
    # features that say nothing: an unweighted fit predicts the majority stance (neutral, as in real news),
    # where a class-balanced fit would spread its calls over the rare stances
    from inference.blend import RuleVotes
    from training.trainer.calibration import fit_blend

    rng = np.random.default_rng(0)
    n = 200
    votes = RuleVotes(margins=rng.normal(size=(n, 2)), stance=np.zeros((n, 3)), voters=[{}] * n)
    y = rng.integers(0, 2, size=(n, 2))
    s = np.array([2] * 160 + [1] * 30 + [0] * 10)  # neutral 80%, critical 15%, supportive 5%
    blend = fit_blend(votes, np.ones(n, bool), y, s, rng.normal(size=(n, 2)), rng.normal(size=(n, 3)), 3)
    calls = blend.stance_logits(rng.normal(size=(n, 3)), votes).argmax(1)
    assert (calls == 2).mean() > 0.9


def test_fit_blend_fits_the_topics_even_where_the_stance_cannot_be_fitted():
    from inference.blend import RuleVotes
    from training.trainer.calibration import fit_blend

    rng = np.random.default_rng(1)
    n = 60
    votes = RuleVotes(margins=rng.normal(size=(n, 2)), stance=np.zeros((n, 3)), voters=[{}] * n)
    y = rng.integers(0, 2, size=(n, 2))
    tl, sl = rng.normal(size=(n, 2)), rng.normal(size=(n, 3))
    mixed, single = np.array([0, 1, 2] * 20), np.full(n, 2)
    keep = np.ones(n, bool)
    fitted = fit_blend(votes, keep, y, mixed, tl, sl, 3, "fitted")
    assert fitted.stance_kind == "fitted" and np.abs(fitted.stance).sum() > 0
    # rules first: the same topic blend, no stance map fitted (its weights stay zero, the rules' stance stands)
    first = fit_blend(votes, keep, y, mixed, tl, sl, 3, "rules_first")
    assert first.stance_kind == "rules_first" and not first.stance.any()
    assert np.allclose(first.topic, fitted.topic) and first.fitted_on == n
    # every kept article neutral: nothing to fit a stance on, but the topics still get their blend
    lone = fit_blend(votes, keep, y, single, tl, sl, 3, "fitted")
    assert lone is not None and lone.stance_kind == "rules_first" and np.allclose(lone.topic, fitted.topic)
    # no topic varies: nothing to fit at all
    assert fit_blend(votes, keep, np.zeros((n, 2), int), mixed, tl, sl, 3, "fitted") is None


def test_a_fitted_blend_keeps_the_rules_stance_by_default_and_round_trips():
    from inference.blend import MODEL_ALONE_P, RuleBlend, RuleVotes

    n = 3
    blend = RuleBlend(np.array([1.0, 2.0, 0.0, -1.0]), np.zeros((n, 2 * n + 1)), 40, default_stance=2,
                      stance_kind="rules_first")
    again = RuleBlend.from_manifest({"stances": ["s", "c", "n"], "blend": blend.to_manifest()})
    assert (again.kind, again.stance_kind, again.default_stance) == ("logistic", "rules_first", 2)
    # a blend saved before stance_kind existed keeps its fitted stance
    old = {k: v for k, v in blend.to_manifest().items() if k not in ("stance_kind", "default_stance")}
    assert RuleBlend.from_manifest({"blend": old}).stance_kind == "fitted"
    votes = RuleVotes(margins=np.zeros((3, 2)), stance=np.zeros((3, 3)), voters=[{}] * 3, picks=np.array([1, 2, 2]))
    sure = np.log(MODEL_ALONE_P / (1 - MODEL_ALONE_P)) + 2
    model = np.array([[0.0, 0.0, 3.0], [1.0, 0.0, 0.0], [sure, 0.0, 0.0]])
    # the rules' critical; the default where the model is unsure; the model's supportive where it is sure
    assert again.stance_logits(model, votes).argmax(1).tolist() == [1, 2, 0]
    # the fitted matrix (all zeros here) would have called every article a tie: the first stance
    assert RuleBlend.from_manifest({"blend": old}).stance_logits(model, votes).argmax(1).tolist() == [0, 0, 0]


def test_calibrate_gives_a_fitted_blend_the_stance_kind_of_the_config(tagger):
    import copy

    from inference import Tagger
    from training.trainer.config import TrainConfig

    rows = [{"title": "Truce holds", "text": "A ceasefire agreed on Sunday held overnight, officials said.",
             "topics": ["ceasefire"] if i % 2 else [], "stance": ["neutral", "critical", "supportive"][i % 3],
             "gold": True} for i in range(24)]
    for kind in ("rules_first", "fitted"):
        other = Tagger(tagger.model, tagger.tokenizer, copy.deepcopy(tagger.config), tagger.device)
        if not other.rule_schema.rules or other.stances != ["supportive", "critical", "neutral"]:
            pytest.skip("the tiny tagger fixture has no rules or another stance set")
        calibrate(other, rows, TrainConfig(rule_blend="gold", stance_blend=kind))
        assert other.blend.kind == "logistic" and other.blend.stance_kind == kind
        assert other.config["blend"]["stance_kind"] == kind
