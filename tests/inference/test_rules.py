"""Labeling functions: how many matching sentences a rule needs (min_hits, min_share, max_hits, lead_hits),
a title repeated as the first sentence, and the prefix-tree alternation matching what re matches."""

from __future__ import annotations

import re

import pytest
from conftest import LABELS, SAMPLE

from inference.alternation import compile_alternation
from inference.errors import NewstagError
from inference.rules import Rule, labeling_functions, make_scopes, weak_label
from inference.schema import load_schema, schema_from_dict
from inference.sentences import sentences


def schema_with(**rule):
    """A one-topic schema whose only rule votes for 'ceasefire' on the word truce, with ``rule``'s keys."""
    return schema_from_dict({
        "topics": [{"name": "ceasefire", "description": "A truce."}],
        "stances": [{"name": "neutral", "description": "Factual."}],
        "rules": [{"name": "cf", "label": "ceasefire", "patterns": [r"\btruce\b"], **rule}],
    })


def vote(title: str, text: str, **rule) -> int:
    (lf,) = labeling_functions(schema_with(**rule))
    return lf(title, sentences(text))


FILLER = "The weather was mild. Markets opened late. A bridge was repainted. Trains ran on time."


def test_min_hits_counts_matching_sentences_not_matches():
    assert vote("", "A truce, a truce and a truce held.", min_hits=2) == 0
    assert vote("", "A truce held. The truce was extended.", min_hits=2) == 1


@pytest.mark.parametrize("sentences_in_scope, needed", [(1, 1), (4, 1), (5, 2), (8, 2), (9, 3), (40, 10)])
def test_min_share_scales_the_hits_with_the_length(sentences_in_scope, needed):
    assert Rule("r", "ceasefire", ("x",), min_share=0.25).hits_needed(sentences_in_scope) == needed


def test_max_hits_caps_the_share_but_not_min_hits():
    rule = Rule("r", "ceasefire", ("x",), min_share=0.5, max_hits=3)
    assert rule.hits_needed(40) == 3
    assert Rule("r", "ceasefire", ("x",), min_hits=4, min_share=0.5, max_hits=3).hits_needed(40) == 4
    assert Rule("r", "ceasefire", ("x",), min_share=0.1).hits_needed(30) == 3  # 0.1 * 30 is not 3.0000000004


def test_a_brief_needs_one_sentence_a_long_article_several():
    brief = "A truce held overnight. Shops reopened."
    assert vote("", brief, min_share=0.2) == 1
    # 14 sentences: 0.2 of them is 2.8, so three
    once = ["A truce held overnight."] + sentences(FILLER) * 3 + ["Schools reopened."]
    twice = once[:5] + ["The truce let markets open."] + once[6:]
    thrice = twice[:9] + ["Truce or not, trains ran."] + twice[10:]
    assert len(once) == len(twice) == len(thrice) == 14
    assert [vote("", " ".join(s), min_share=0.2) for s in (once, twice, thrice)] == [0, 0, 1]


def test_lead_hits_weigh_the_title_and_first_three_sentences():
    body = " ".join([FILLER] * 3)
    assert vote("Truce agreed", body, min_hits=2, lead_hits=2) == 1
    assert vote("Talks go on", "The weather was mild. A truce was agreed. " + body, min_hits=2, lead_hits=2) == 1
    # the fourth sentence of the text is past the lead
    late = "The weather was mild. Markets opened late. A bridge was repainted. A truce was agreed. " + body
    assert vote("Talks go on", late, min_hits=2, lead_hits=2) == 0
    assert vote("Truce agreed", body, min_hits=2) == 0  # without lead_hits the title is one sentence


def test_a_title_repeating_the_first_sentence_counts_once():
    text = "A truce held in the north on Sunday. " + FILLER
    assert vote("A truce held in the north on Sunday.", text, min_hits=2) == 0
    assert vote("A truce held in the north", text, min_hits=2) == 0  # a feed's first line cut short
    assert vote("Truce holds", text, min_hits=2) == 1  # a real headline is a sentence of its own
    scopes = make_scopes("A truce held in the north", sentences(text))
    assert scopes["title"][0] == ["A truce held in the north"]
    assert scopes["text"][0][0] == "A truce held in the north on Sunday." and scopes["text"][4] == 3


def test_weak_label_sums_votes_with_new_keys(tmp_path):
    schema = schema_from_dict({
        "topics": [{"name": "ceasefire", "description": "A truce."}],
        "stances": [{"name": "neutral", "description": "Factual."}],
        "rules": [
            {"name": "cf_core", "label": "ceasefire", "patterns": [r"\btruce\b"], "min_share": 0.2, "lead_hits": 2},
            {"name": "cf_game", "label": "ceasefire", "vote": -1, "patterns": [r"\bvideo game\b"]},
        ],
    })
    lfs = labeling_functions(schema)
    assert weak_label(schema, lfs, "Truce holds", FILLER * 2).topics == ("ceasefire",)
    assert weak_label(schema, lfs, "Truce holds", FILLER + " It is a video game.").topics == ()


# ---- the new keys in the schema ----------------------------------------------------------------------------

def test_new_keys_load_and_round_trip():
    schema = schema_with(min_hits=2, min_share=0.15, max_hits=4, lead_hits=2)
    (rule,) = schema.rules
    assert (rule.min_hits, rule.min_share, rule.max_hits, rule.lead_hits) == (2, 0.15, 4, 2)
    assert schema_from_dict(schema.to_dict()) == schema
    # defaults stay out of the dict a model folder stores, so older readers still read it
    assert "min_share" not in schema_with().to_dict()["rules"][0]


@pytest.mark.parametrize("key, value, need", [
    ("min_share", 1.5, "a share of the sentences from 0 to 1"), ("min_share", "a lot", "a share of the sentences"),
    ("lead_hits", 0, "a whole number of at least 1"), ("max_hits", -1, "a whole number of at least 0"),
    ("min_hits", 1.5, "a whole number of at least 1"), ("min_hits", True, "a whole number of at least 1"),
])
def test_bad_evidence_keys_fail_naming_the_key(key, value, need):
    with pytest.raises(NewstagError) as info:
        schema_from_dict({"topics": ["ceasefire"], "stances": ["neutral"],
                          "rules": [{"name": "cf", "label": "ceasefire", "patterns": ["truce"], key: value}]},
                         source="labels.yaml")
    assert str(info.value).startswith(f"labels.yaml: rules[0].{key}: must be {need}")


# ---- the prefix-tree alternation ---------------------------------------------------------------------------

TRICKY = [
    r"\b(?:ban|bans?|banned)\b|\bbar(s|red)? ([\w.'-]+ ){0,3}from\b",
    r"\b(air ?strikes?|airstrikes?|air raids?)\b|\b(a|an|the)\b",
    r"\b(cease-?fires?|truces?)\b|\btruce(breaker)?",
    r"\b(defen[cs]e|military)\s+(pact|ties)\b|\b(de|di)\w+",
    r"(?:ab|a)(?:c|bc)|\ba",
    r"\b(x|)y\b|\by+",
]
TEXT = ("The truce-breaker bans. A ban, a banned man, a bar. It bars them all from entering: airstrikes and "
        "air strikes, an air raid. Defence pact, defense ties, military pact, diplomats, denied. abc ac abbc "
        "y yy xy x. Ceasefires, cease-fire, truces.")


@pytest.mark.parametrize("pattern", TRICKY)
def test_prefix_tree_matches_exactly_what_re_matches(pattern):
    fast, plain = compile_alternation(pattern), re.compile(pattern)
    assert fast.pattern is None  # it was rewritten
    text = TEXT.lower()
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_prefix_tree_on_the_default_rules_and_the_sample_texts():
    texts = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted((SAMPLE / "pages").glob("*.txt"))).lower()
    for rule in load_schema(LABELS).rules:
        joined = "|".join(f"(?:{p})" for p in rule.patterns)
        fast, plain = compile_alternation(joined), re.compile(joined)
        assert [m.span() for m in fast.finditer(texts)] == [m.span() for m in plain.finditer(texts)], rule.name


@pytest.mark.parametrize("pattern, flags", [(r"\b(a)b\1", 0), (r"\b(?i:truce)|\bwar", 0), (r"\btruce|\bwar", re.I)])
def test_prefix_tree_leaves_what_it_cannot_rewrite_to_re(pattern, flags):
    compiled = compile_alternation(pattern, flags)
    assert compiled.pattern == pattern and compiled.flags == re.compile(pattern, flags).flags


@pytest.mark.parametrize("title, text, stance", [
    # an authority's plain verdict on a claim is a debunk (LABELS.md: debunking is critical toward the claim)
    ("", "A post said the port town had been sealed off over a fever outbreak. Health officials said the reports "
         "were inaccurate. The harbour stayed open all week.", "critical"),
    ("", "Posts claimed a patient had the virus. The agency described the reports as \"rumour\" after checking "
         "every clinic.", "critical"),
    # a court's charge is the story's fact, not the article condemning anyone
    ("Trial opens in Lisbon", "A former bank chief went on trial on Monday. He is accused of fraud and of "
                              "stealing from clients. He is also accused of bribing an official, prosecutors said.",
     "neutral"),
    # illness is not a judging word
    ("", "Staff called in sick at the airline. A third of the crew were sick on Friday. Flights were cancelled.",
     "neutral"),
    # a headline's verbal attack on a quoted phrase
    ("Minister attacks rival's 'fantasy' budget", "The finance minister said the opposition plan did not add up. "
                                                  "The vote is due next month.", "critical"),
    # an event described as a celebration or a milestone is not praise of a development
    ("", "Fans celebrated the singer's birthday at a festival. The town marked the milestone with a parade. "
         "The festival celebrated its tenth year.", "neutral"),
    # ... nor is a headline that names one
    ("Town celebrates landmark anniversary", "The town marked 500 years since its charter on Saturday. A parade ran "
                                             "through the centre.", "neutral"),
    # one approving voice carries a short article, even outside its lead
    ("", "The council opened a library in the old mill on Monday. It has 40,000 books. A cafe is on the top floor. "
         "Parking is free for an hour. Parents' groups warmly welcomed the plan.", "supportive"),
    # a review that praises what it reviews (LABELS.md: supportive praises)
    ("Review: The Lantern Room", "The Lantern Room is the second novel by a writer from Leeds. It follows a "
                                 "lighthouse keeper through one winter. The writing is superb throughout. Its ending "
                                 "is remarkable.", "supportive"),
    # the facts answering a claim: a fact check's opening line, no cases found despite reports
    ("", "Claim: A bridge in the capital collapsed in a storm on Sunday. Pictures of the wreck spread online.",
     "critical"),
    ("", "No suspected cases of the fever have been found in the province, despite reports to the contrary, the "
         "health ministry said on Monday.", "critical"),
])
def test_default_stance_rules_on_near_misses_and_debunks(title, text, stance):
    schema = load_schema(LABELS)
    assert weak_label(schema, labeling_functions(schema), title, text).stance == stance


def test_the_one_statement_debunk_rule_abstains_on_a_hedge():
    schema = load_schema(LABELS)
    votes = weak_label(schema, labeling_functions(schema), "", "Posts claimed a patient had the virus. Health officials "
                       "said the reports may be inaccurate.").votes
    assert "st_critical_hoax" not in votes
    sure = weak_label(schema, labeling_functions(schema), "", "Posts claimed a patient had the virus. Health officials "
                      "said the reports were inaccurate.").votes
    assert sure.get("st_critical_hoax") == 1
