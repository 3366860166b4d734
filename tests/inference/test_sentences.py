"""Sentence splitting: abbreviations, initials, decimals and quotes do not end a sentence; sentence ends do."""

from __future__ import annotations

import pytest

from inference.sentences import paragraph_sentences, sentences


@pytest.mark.parametrize(("text", "expected"), [
    ("Mr. Smith of the U.S. Army said the talks had failed. He left on Monday.",
     ["Mr. Smith of the U.S. Army said the talks had failed.", "He left on Monday."]),
    ("Dr. Jones met Gen. Haftar and Lt. Col. Ahmed in Tripoli. The meeting was short.",
     ["Dr. Jones met Gen. Haftar and Lt. Col. Ahmed in Tripoli.", "The meeting was short."]),
    ("The U.N. envoy arrived on Jan. 5 with No. 3 on the list. Talks began at once.",
     ["The U.N. envoy arrived on Jan. 5 with No. 3 on the list.", "Talks began at once."]),
    ("Sen. Warren and Rep. Ocasio-Cortez met Gov. Newsom. St. Louis was next.",
     ["Sen. Warren and Rep. Ocasio-Cortez met Gov. Newsom.", "St. Louis was next."]),
], ids=["mr-us", "dr-gen-lt-col", "un-jan-no", "sen-rep-gov-st"])
def test_abbreviations_do_not_end_a_sentence(text, expected):
    assert sentences(text) == expected


def test_initials_do_not_end_a_sentence():
    assert sentences("J. R. R. Tolkien wrote it. George W. Bush read it. Prof. A. Karimi disagreed!") == [
        "J. R. R. Tolkien wrote it.", "George W. Bush read it.", "Prof. A. Karimi disagreed!"]


def test_decimals_and_times_do_not_end_a_sentence():
    assert sentences("Inflation rose to 3.5 percent in May. Rates stay at 4.25% until 5 p.m. on Friday. "
                     "It cost $1.2 billion.") == [
        "Inflation rose to 3.5 percent in May.", "Rates stay at 4.25% until 5 p.m. on Friday.",
        "It cost $1.2 billion."]


def test_quotes_end_a_sentence_only_when_the_next_one_starts():
    assert sentences('"We will not give up." The minister spoke after the vote.') == [
        '"We will not give up."', "The minister spoke after the vote."]
    assert sentences('"Are you sure?" he asked. Nobody answered.') == ['"Are you sure?" he asked.', "Nobody answered."]
    assert sentences("He said: \u201cThe truce holds.\u201d Fighting resumed later.") == [
        "He said: \u201cThe truce holds.\u201d", "Fighting resumed later."]


def test_a_lowercase_start_continues_the_sentence():
    assert paragraph_sentences("It cost 5 mln. euros in all. Really.") == ["It cost 5 mln. euros in all.", "Really."]


def test_paragraph_breaks_end_a_sentence_and_blank_text_has_none():
    assert sentences("A first paragraph without end\nA second one. And more.") == [
        "A first paragraph without end", "A second one.", "And more."]
    assert sentences("  \n\n ") == []


def test_each_sentence_is_found_in_the_text_in_order():
    """Evidence locates each sentence in the text with ``str.find``: a sentence must be a substring."""
    text = ("Mr. Smith of the U.S. Army said so.  It cost 5 mln.  euros in all. \"Yes.\" He left.\n"
            "  Dr. Jones agreed with Gen. Haftar.")
    pos = 0
    for s in sentences(text):
        start = text.find(s, pos)
        assert start >= 0, s
        pos = start + len(s)
