"""Sentence splitting: abbreviations, initials, decimals and quotes do not end a sentence; sentence ends do."""

from __future__ import annotations

import pytest

from inference.sentences import paragraph_sentences, sentences, unwrap


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


WRAPPED = ("Government troops and rebels agreed to a\n"
           "ceasefire on Tuesday after three weeks of\n"
           "fighting around the port, officials said.\n"
           "    The truce is to be monitored by\n"
           "observers from neighbouring states, who\n"
           "arrive on Friday.\n"
           " Reuter")


def test_a_hard_wrapped_text_is_read_in_whole_sentences():
    assert unwrap(WRAPPED) == ("Government troops and rebels agreed to a ceasefire on Tuesday after three weeks "
                               "of fighting around the port, officials said.\n"
                               "The truce is to be monitored by observers from neighbouring states, who arrive "
                               "on Friday.\nReuter")
    assert sentences(WRAPPED) == sentences(unwrap(WRAPPED)) == [
        "Government troops and rebels agreed to a ceasefire on Tuesday after three weeks of fighting around the "
        "port, officials said.",
        "The truce is to be monitored by observers from neighbouring states, who arrive on Friday.", "Reuter"]
    for s in sentences(WRAPPED):  # evidence finds sentences in the unwrapped text the tagger reads
        assert s in unwrap(WRAPPED)


@pytest.mark.parametrize("text", [
    # a headline list and one-line paragraphs: no line goes on in lower case
    "Related Articles\nTruce holds in the north\nAid convoy reaches the city\nTalks resume in Geneva",
    "The talks resumed on Monday.\nBoth sides sent delegations.\nA deal is expected soon.\nNothing was signed.",
    # long lines are paragraphs, however they end
    ("A paragraph that runs well past any fixed width a wire feed would wrap at, without a full stop at its end and\n"
     "continued here in lower case\nand here\nand here."),
    # too few breaks to tell
    "Aid arrived\nby truck\non Monday.",
])
def test_text_that_is_not_hard_wrapped_is_left_as_it_is(text):
    assert unwrap(text) == text
