"""The label schema: the default file loads and round-trips; each bad file fails naming the file and key."""

from __future__ import annotations

import re
import textwrap

import pytest

from inference.errors import NewstagError
from inference.schema import load_schema, schema_from_dict

TOPICS = ["military_cooperation", "ceasefire", "travel_ban", "armed_conflict", "humanitarian_aid", "protest",
          "political_process"]

GOOD = """\
version: 1
topics:
  - name: ceasefire
    description: A truce.
  - name: protest
    description: Demonstrations.
stances:
  - name: supportive
    description: Approves.
  - name: neutral
    description: Factual.
default_stance: neutral
rules:
  - name: cf_keyword
    label: ceasefire
    patterns: ['\\btruces?\\b']
"""


def write(tmp_path, text: str, name: str = "labels.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path) -> str:
    with pytest.raises(NewstagError) as info:
        load_schema(path)
    return str(info.value)


def test_default_labels_file_loads(labels_yaml):
    schema = load_schema(labels_yaml)
    assert schema.topic_names == TOPICS
    assert schema.stance_names == ["supportive", "critical", "neutral"]
    assert schema.default_stance == "neutral"
    assert schema.version == 1
    assert len(schema.rules) > 0
    assert {r.label for r in schema.rules} <= set(TOPICS) | set(schema.stance_names)
    assert all(t.description for t in schema.topics)


def test_schema_round_trips_through_a_dict(labels_yaml):
    schema = load_schema(labels_yaml)
    assert schema_from_dict(schema.to_dict()) == schema


def test_small_good_file_loads(tmp_path):
    schema = load_schema(write(tmp_path, GOOD))
    assert schema.topic_names == ["ceasefire", "protest"]
    assert schema.stance_names == ["supportive", "neutral"]
    assert [r.name for r in schema.rules] == ["cf_keyword"]
    assert schema.topics[0].min_votes == 1.0


def test_keywords_are_literal_phrases(tmp_path):
    path = write(tmp_path, GOOD.replace("patterns: ['\\btruces?\\b']", "keywords: ['cease fire', 'U.N.']"))
    (rule,) = load_schema(path).rules
    phrase, abbrev = rule.patterns
    assert re.search(phrase, "they agreed a cease  fire today", re.I)
    assert not re.search(phrase, "ceasefire")
    assert not re.search(abbrev, "UTN")  # the dots are literal, not any character
    # a keyword ending in punctuation still matches where it stands before a space
    assert re.search(abbrev, "the U.N. envoy said", re.I)


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, GOOD + "colour: red\n")
    msg = error_of(path)
    assert msg.startswith(f"{path}: <top>.colour: unknown key; use one of ")
    assert "topics" in msg and "stances" in msg


def test_unknown_key_in_a_topic(tmp_path):
    path = write(tmp_path, GOOD.replace("    description: Demonstrations.", "    descripton: Demonstrations."))
    assert error_of(path).startswith(f"{path}: topics[1].descripton: unknown key; use one of description, min_votes, name, threshold")


def test_unknown_key_in_a_rule(tmp_path):
    path = write(tmp_path, GOOD + "    keyword: ['truce']\n")
    assert error_of(path).startswith(f"{path}: rules[0].keyword: unknown key; ")


def test_duplicate_label(tmp_path):
    path = write(tmp_path, GOOD.replace("  - name: protest", "  - name: ceasefire"))
    msg = error_of(path)
    assert msg.startswith(f"{path}: topics[1].name: duplicate label 'ceasefire'; ")


def test_duplicate_stance(tmp_path):
    path = write(tmp_path, GOOD.replace("  - name: neutral", "  - name: supportive"))
    assert error_of(path).startswith(f"{path}: stances[1].name: duplicate label 'supportive'; ")


def test_invalid_regex(tmp_path):
    path = write(tmp_path, GOOD.replace("patterns: ['\\btruces?\\b']", "patterns: ['ok', '(unclosed']"))
    msg = error_of(path)
    assert msg.startswith(f"{path}: rules[0].patterns[1]: invalid regular expression '(unclosed'")
    assert "fix or escape the pattern" in msg


def test_invalid_regex_in_unless(tmp_path):
    path = write(tmp_path, GOOD + "    unless: ['[a-']\n")
    assert error_of(path).startswith(f"{path}: rules[0].unless[0]: invalid regular expression")


def test_rule_for_unknown_label(tmp_path):
    path = write(tmp_path, GOOD.replace("    label: ceasefire", "    label: weather"))
    msg = error_of(path)
    assert msg.startswith(f"{path}: rules[0].label: rule 'cf_keyword' names unknown label 'weather'; ")
    assert "ceasefire" in msg  # the fix lists the labels that exist


def test_negative_vote_on_a_stance_fails(tmp_path):
    path = write(tmp_path, GOOD.replace("    label: ceasefire", "    label: supportive\n    vote: -1"))
    assert error_of(path).startswith(f"{path}: rules[0].vote: ")


def test_default_stance_must_be_a_stance(tmp_path):
    path = write(tmp_path, GOOD.replace("default_stance: neutral", "default_stance: ceasefire"))
    assert error_of(path).startswith(f"{path}: default_stance: 'ceasefire' is not a stance; ")


def test_label_both_topic_and_stance(tmp_path):
    path = write(tmp_path, GOOD.replace("  - name: neutral", "  - name: protest"))
    assert error_of(path).startswith(f"{path}: stances: 'protest' is both a topic and a stance; ")


def test_missing_stances(tmp_path):
    text = GOOD.split("stances:")[0]
    path = write(tmp_path, text)
    assert error_of(path).startswith(f"{path}: stances: missing; ")


def test_invalid_yaml_names_the_file(tmp_path):
    path = write(tmp_path, "topics: [a, b\n")
    assert error_of(path).startswith(f"{path}: not valid YAML (")


def test_missing_file(tmp_path):
    msg = error_of(tmp_path / "nope.yaml")
    assert f"labels file {tmp_path / 'nope.yaml'} not found" in msg
    assert "--labels" in msg


def test_schema_from_dict_names_its_source():
    with pytest.raises(NewstagError, match=r"^tagger\.json: <top>: must be a mapping"):
        schema_from_dict(["not", "a", "mapping"], source="tagger.json")
