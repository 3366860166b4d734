"""The evidence sentence: the sentence of the deciding window whose tokens have the highest mean share."""

from types import SimpleNamespace

import numpy as np
import pytest

from inference.sentences import sentences
from inference.tagger import _evidence

TEXT = "Troops crossed the border at dawn. Talks resumed in Doha. Aid convoys reached the city."


def word_offsets(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for word in text.split():
        start = text.index(word, pos)
        out.append((start, start + len(word)))
        pos = start + len(word)
    return out


def brute_force(text, offs, span, scores) -> str:
    """The definition, spelled out: mean score of the tokens wholly inside each overlapping sentence."""
    best, best_score, pos = "", -np.inf, 0
    for sent in sentences(text):
        start = text.find(sent, pos)
        end = pos = start + len(sent)
        if end <= span[0] or start >= span[1]:
            continue
        inside = [scores[k] for k, (a, b) in enumerate(offs) if b > a and a >= start and b <= end]
        if inside and np.mean(inside) > best_score:
            best, best_score = sent, float(np.mean(inside))
    return best


def run(offs, span, scores):
    win = SimpleNamespace(offsets=[offs], spans=[span])
    ev = (win, [TEXT], np.zeros((1, 1), dtype=np.int64), {0: np.asarray(scores, dtype=np.float32)[:, None]}, {})
    return _evidence(ev, 0, 0)


def test_picks_the_sentence_with_the_highest_mean_share():
    offs = [(0, 0)] + word_offsets(TEXT) + [(0, 0)]  # [CLS] ... [SEP] carry no text
    scores = np.zeros(len(offs))
    scores[8] = scores[9] = 3.0  # "in Doha." -> second sentence
    scores[1] = 4.0  # one strong token in a six-token sentence: mean 0.67 < 1.5
    assert run(offs, (0, len(TEXT)), scores) == "Talks resumed in Doha."


@pytest.mark.parametrize("seed", range(20))
def test_matches_the_definition_on_random_scores_and_windows(seed):
    rng = np.random.default_rng(seed)
    words = word_offsets(TEXT)
    lo_word = int(rng.integers(0, len(words) - 1))
    hi_word = int(rng.integers(lo_word + 1, len(words) + 1))
    offs = [(0, 0)] + words[lo_word:hi_word] + [(0, 0)]
    span = (words[lo_word][0], words[hi_word - 1][1])
    scores = rng.normal(size=len(offs))
    assert run(offs, span, scores) == brute_force(TEXT, offs, span, scores)


def test_a_window_without_text_tokens_gives_no_evidence():
    assert run([(0, 0), (0, 0)], (0, 0), [1.0, 2.0]) == ""


def test_evidence_is_a_whole_sentence_across_abbreviations():
    """Evidence is never cut at "Mr." or "U.S.": the sentence around them is the unit."""
    text = "Mr. Smith of the U.S. Army said the truce held. Aid convoys reached the city."
    offs = [(0, 0)] + word_offsets(text) + [(0, 0)]
    scores = np.zeros(len(offs))
    scores[2:5] = 3.0  # "Smith of the"
    win = SimpleNamespace(offsets=[offs], spans=[(0, len(text))])
    ev = (win, [text], np.zeros((1, 1), dtype=np.int64), {0: scores.astype(np.float32)[:, None]}, {})
    assert _evidence(ev, 0, 0) == "Mr. Smith of the U.S. Army said the truce held."
