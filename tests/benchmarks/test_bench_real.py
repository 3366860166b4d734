"""The pure helpers of ``benchmarks.bench_real``: scoring, rule precision, the pool sample and the copy check."""

from __future__ import annotations

import csv
import json

import pytest

from benchmarks.bench_real import brief_view, dev_in_pool, pool_candidates, reader_agreement, second_set
from benchmarks.real_metrics import (
    NearCopies,
    balanced_sample,
    bootstrap_line,
    paired_bootstrap,
    rule_stats,
    score_tags,
)

TOPICS = ["protest", "ceasefire"]
STANCES = ["supportive", "critical", "neutral"]


def test_score_tags_on_a_hand_made_example():
    gold = [{"protest"}, {"protest", "ceasefire"}, set(), {"ceasefire"}]
    pred = [{"protest"}, {"protest"}, {"protest", "unknown_topic"}, set()]
    s = score_tags(gold, pred, ["neutral", "critical", "neutral", "supportive"],
                   ["neutral", "neutral", "neutral", "other"], TOPICS, STANCES)
    # protest: tp 2, fp 1, fn 0; ceasefire: tp 0, fp 0, fn 2 (unknown_topic is ignored)
    assert s["per_topic"]["protest"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8,
                                                       "support": 2, "predicted": 3})
    assert s["per_topic"]["ceasefire"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2, "predicted": 0}
    assert s["topic_micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 2))
    assert s["topic_macro_f1"] == pytest.approx(0.4)
    # stance: 2 of 4 right; "other" is wrong and outside the matrix
    assert s["stance_accuracy"] == 0.5
    assert s["stance_confusion"] == [[0, 0, 0], [0, 0, 1], [0, 0, 2]]
    assert s["per_stance"]["neutral"] == pytest.approx({"precision": 2 / 3, "recall": 1.0, "f1": 0.8,
                                                        "support": 2, "predicted": 3})
    assert s["stance_macro_f1"] == pytest.approx(0.8 / 3)


def test_score_tags_refuses_unequal_lists_and_unknown_gold_stance():
    with pytest.raises(ValueError, match="one entry per article"):
        score_tags([set()], [], ["neutral"], ["neutral"], TOPICS, STANCES)
    with pytest.raises(ValueError, match="gold stance 'angry'"):
        score_tags([set()], [set()], ["angry"], ["neutral"], TOPICS, STANCES)


def _taggers():
    """20 articles; tagger A is right on all, tagger B misses protest on 6 and calls 6 critical articles neutral."""
    gold_topics = [{"protest"}] * 10 + [set()] * 10
    gold_stance = ["critical"] * 8 + ["neutral"] * 10 + ["supportive"] * 2
    a = (list(gold_topics), list(gold_stance))
    b = ([set()] * 6 + [{"protest"}] * 4 + [set()] * 10, ["neutral"] * 6 + gold_stance[6:])
    return gold_topics, gold_stance, a, b


def test_paired_bootstrap_difference_is_score_tags_and_its_interval_excludes_zero_for_a_clear_gap():
    gold_topics, gold_stance, a, b = _taggers()
    boot = paired_bootstrap(gold_topics, gold_stance, a, b, TOPICS, STANCES, reps=300)
    sa, sb = (score_tags(gold_topics, p[0], gold_stance, p[1], TOPICS, STANCES) for p in (a, b))
    for key in ("topic_micro_f1", "stance_macro_f1"):
        assert boot[key]["diff"] == pytest.approx(sa[key] - sb[key])
        assert 0 < boot[key]["low"] <= boot[key]["diff"] <= boot[key]["high"]
        assert boot[key]["a_better"] > 0.95
    # B minus A is the mirror image; a tagger against itself differs by exactly nothing
    back = paired_bootstrap(gold_topics, gold_stance, b, a, TOPICS, STANCES, reps=300)
    assert back["topic_micro_f1"]["high"] == pytest.approx(-boot["topic_micro_f1"]["low"])
    same = paired_bootstrap(gold_topics, gold_stance, a, a, TOPICS, STANCES, reps=50)
    assert same["stance_macro_f1"] == {"diff": 0.0, "low": 0.0, "high": 0.0, "a_better": 0.0}
    assert bootstrap_line(same, "topic_micro_f1") == ("+0.000 (95% interval +0.000 to +0.000; higher in 0% of 50 "
                                                      "resamples)")


def test_paired_bootstrap_is_seeded_and_refuses_unequal_lists():
    gold_topics, gold_stance, a, b = _taggers()
    one, two = (paired_bootstrap(gold_topics, gold_stance, a, b, TOPICS, STANCES, reps=100, seed=3) for _ in range(2))
    assert one == two
    with pytest.raises(ValueError, match="one entry per article"):
        paired_bootstrap(gold_topics, gold_stance, a, (b[0][:-1], b[1]), TOPICS, STANCES)


def test_rule_stats_coverage_and_precision_by_vote_kind():
    votes = [{"pr_kw": 1, "st_crit": 1}, {"pr_kw": 1, "pr_not": -1}, {"pr_not": -1, "embedding:ceasefire": 1}, {}]
    gold = [{"protest"}, set(), set(), {"ceasefire"}]
    stance = ["critical", "neutral", "critical", "neutral"]
    r = rule_stats(votes, gold, stance, {"pr_kw": "protest", "pr_not": "protest", "st_crit": "critical",
                                         "cf_never": "ceasefire"}, STANCES)
    assert list(r) == ["pr_kw", "pr_not", "st_crit", "cf_never", "embedding:ceasefire"]
    assert r["pr_kw"] == {"label": "protest", "votes": 2, "coverage": 0.5, "precision": 0.5}
    assert r["pr_not"]["precision"] == 1.0  # both -1 votes on articles without the topic
    assert r["st_crit"] == {"label": "critical", "votes": 1, "coverage": 0.25, "precision": 1.0}
    assert r["cf_never"] == {"label": "ceasefire", "votes": 0, "coverage": 0.0, "precision": None}
    assert r["embedding:ceasefire"]["label"] == "ceasefire" and r["embedding:ceasefire"]["precision"] == 0.0


def test_balanced_sample_is_even_seeded_and_makes_up_for_a_small_group():
    groups = {"a": list(range(100)), "b": list(range(100, 103)), "c": list(range(200, 300))}
    got = balanced_sample(groups, 21, seed=1)
    assert len(got) == 21 and len(set(got)) == 21
    assert sum(x < 100 for x in got) == 9 and sum(100 <= x < 103 for x in got) == 3 and sum(x >= 200 for x in got) == 9
    assert got == balanced_sample(groups, 21, seed=1) and got != balanced_sample(groups, 21, seed=2)
    assert got == sorted(got)  # each group's items keep their order
    assert len(balanced_sample(groups, 1000)) == 203


def test_near_copies_finds_copies_and_rewrites_not_other_texts():
    ref = "Thousands marched through the capital on Sunday to demand new elections and an end to the curfew."
    near = NearCopies([ref])
    assert "  THOUSANDS marched through the capital on Sunday to demand new elections and an end to the curfew. " in near
    assert ref.replace("Sunday", "Monday") + " Police watched." in near
    assert "A truce between the two armies held for a third day, officials said on Sunday." not in near
    assert "" not in near


def test_dev_in_pool_checks_dev_id_body_id_and_row():
    dev = [{"id": "d1", "source": "fnc-1 train_bodies", "body_id": 7},
           {"id": "d2", "source": "bbc-news", "row": 3}]
    assert dev_in_pool([{"id": "fnc-1:8"}, {"id": "bbc-news:4"}, {"id": "reuters:7"}], dev) == 0
    assert dev_in_pool([{"id": "fnc-1:7"}, {"id": "bbc-news:3"}, {"id": "d1"}], dev) == 3


def corpora(tmp_path):
    """Two tiny corpora in the real files' layout: FNC-1 bodies and BBC News."""
    fnc, bbc = tmp_path / "train_bodies.csv", tmp_path / "bbc_news.csv"
    with fnc.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Body ID", "articleBody"])
        w.writerows([[7, "A dev body about a truce."], [9, "Rebels and the army agreed a truce on Sunday."]])
    with bbc.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["category", "file", "title", "text"])
        w.writerows([["politics", "001.txt", "Vote called", "MPs will vote on the bill."],
                     ["sport", "002.txt", "Cup win", "The club won the cup."]])
    return {"fnc-1": fnc, "bbc-news": bbc}


def write_labels(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_second_set_reads_texts_from_the_corpora_and_refuses_dev_articles_and_unknown_ids(tmp_path):
    paths = corpora(tmp_path)
    dev = [{"id": "d1", "source": "fnc-1 train_bodies", "body_id": 7}]
    gold = write_labels(tmp_path / "gold.jsonl", [{"id": "fnc-1:9", "topics": ["ceasefire"], "stance": "neutral"},
                                                  {"id": "bbc-news:1", "topics": [], "stance": "supportive"}])
    rows = second_set(paths, dev, gold)
    assert [(r["id"], r["title"], r["text"], r["topics"], r["stance"]) for r in rows] == [
        ("fnc-1:9", "", "Rebels and the army agreed a truce on Sunday.", ["ceasefire"], "neutral"),
        ("bbc-news:1", "Cup win", "The club won the cup.", [], "supportive")]
    with pytest.raises(SystemExit, match="1 dev article"):
        second_set(paths, dev, write_labels(tmp_path / "g2.jsonl", [{"id": "fnc-1:7", "topics": [], "stance": "neutral"}]))
    with pytest.raises(SystemExit, match="not in the corpora"):
        second_set(paths, dev, write_labels(tmp_path / "g3.jsonl", [{"id": "bbc-news:5", "topics": [], "stance": "neutral"}]))


def test_pool_candidates_leave_out_dev_rows_and_the_excluded_ids(tmp_path):
    paths = corpora(tmp_path)
    reuters = tmp_path / "reuters.jsonl"
    reuters.write_text(json.dumps({"newid": 3, "title": "Grain", "body": "Wheat prices rose."}) + "\n", encoding="utf-8")
    paths["reuters"] = reuters
    dev = [{"id": "d1", "source": "fnc-1 train_bodies", "body_id": 7, "text": "A dev body about a truce."}]
    groups, _ = pool_candidates(paths, dev, exclude={"bbc-news:1"})
    assert [x["id"] for g in groups.values() for x in g] == ["fnc-1:9", "bbc-news:0", "reuters:3"]


def test_reader_agreement_scores_the_second_reader_against_the_set_and_refuses_unknown_ids():
    first = [{"id": "a", "topics": ["protest"], "stance": "neutral"}, {"id": "b", "topics": [], "stance": "critical"},
             {"id": "c", "topics": ["ceasefire"], "stance": "neutral"}]
    name, s = reader_agreement(first, [{"id": "b", "topics": [], "stance": "neutral"},
                                       {"id": "a", "topics": ["protest"], "stance": "neutral"}], TOPICS, STANCES)
    assert name == "a second reader (2 of the articles)"
    assert s["topic_micro_f1"] == 1.0 and s["stance_accuracy"] == 0.5
    assert s["stance_confusion"] == [[0, 0, 0], [0, 0, 1], [0, 0, 1]]
    with pytest.raises(SystemExit, match="not in"):
        reader_agreement(first, [{"id": "z", "topics": [], "stance": "neutral"}], TOPICS, STANCES)


def test_brief_view_is_the_title_and_two_whole_sentences_of_a_wrapped_or_plain_text():
    wrapped = "Rebels shelled the\ncity on Monday, the\narmy said.  Aid\nagencies left.\n    Talks resume today."
    assert brief_view("  Rebels   shell city ", wrapped) == (
        "Rebels shell city", "Rebels shelled the city on Monday, the army said. Aid agencies left.")
    assert brief_view("", "One sentence only.") == ("", "One sentence only.")


def test_the_brief_set_reads_reuters_texts_and_gives_each_labeled_view(tmp_path):
    paths = corpora(tmp_path)
    paths["reuters"] = tmp_path / "reuters.jsonl"
    paths["reuters"].write_text(json.dumps({"newid": 3, "title": "STRIKE ENDS", "body": "Dockers went back.\nPay rose. "
                                            "Ships sail."}) + "\n", encoding="utf-8")
    gold = write_labels(tmp_path / "briefs.jsonl", [{"id": "reuters:3", "topics": ["protest"], "stance": "neutral"}])
    (row,) = second_set(paths, [], gold, view=brief_view)
    assert (row["title"], row["text"], row["topics"]) == ("STRIKE ENDS", "Dockers went back. Pay rose.", ["protest"])
