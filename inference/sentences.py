"""Sentences of article text, and the normalized key under which a sentence is counted as repeated.

A sentence ends at ``.``, ``!``, ``?`` or ``…`` (a closing quote or bracket goes with it) followed by a space
and a capital, a digit or an opening quote. A full stop that belongs to an abbreviation does not end one: a
title before a name ("Mr.", "Gen.", "Lt. Col."), a month or "No." before a number ("Jan. 5", "No. 3"), an
initial ("George W. Bush") or a dotted acronym ("U.S. Army"), unless a word that usually opens a sentence
follows ("... moved to the U.S. The next year ..."). Decimals never split: there is no space after their point.

Libraries were measured against this and left out (``python -m benchmarks.bench_sentences``): sentencex is
faster but keeps a quoted passage whole (news paragraphs often are one) and reads "May." or "me." as an
abbreviation; pysbd, segtok and syntok are 10-100x slower, and segtok and syntok split after "Lt." or "Gov.".
"""

from __future__ import annotations

import re

# a sentence end as far as punctuation and the next character tell
_END = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")
_LAST_WORD = re.compile(r"\S+$")
_NEXT_WORD = re.compile(r"[\"'“‘(]?([\w'’-]+)")
# a title stands before a name: its full stop never ends a sentence
TITLES = frozenset("""Mr Mrs Ms Messrs Dr Prof Rev Fr Sr Gen Lt Col Maj Capt Cpt Sgt Cpl Pvt Adm Cmdr Cdr Brig
    Gov Sen Rep Pres Supt Insp Det Hon Amb St Mt vs""".split())
# these stand before a number
BEFORE_NUMBER = frozenset("No Nos Art Fig Vol Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split())
# after an initial or an acronym, these words start a new sentence rather than continue a name
STARTERS = frozenset("""The A An He She It They We I You His Her Its Their Our This That These Those There Then
    But And Or So Yet In On At For From By With As If When While After Before Since However Meanwhile Still
    Some Many Most Both Each Such No Not Now Mr Mrs Ms Dr""".split())
_INITIAL = re.compile(r"[A-Z]\.")
_ACRONYM = re.compile(r"(?:[A-Za-z]\.){2,}")


def paragraph_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped, empty ones left out.

    Example:
        >>> paragraph_sentences("Mr. Smith of the U.S. Army said so. He left.")
        ['Mr. Smith of the U.S. Army said so.', 'He left.']
    """
    out, start = [], 0
    for m in _END.finditer(paragraph):
        if not _abbreviation(paragraph, m.start(), m.end()):
            out.append(paragraph[start:m.start()])
            start = m.end()
    out.append(paragraph[start:])
    return [s for s in (p.strip() for p in out) if s]


def _abbreviation(text: str, end: int, next_start: int) -> bool:
    """Whether the full stop just before ``end`` belongs to an abbreviation that the next word continues."""
    last = _LAST_WORD.search(text, max(0, end - 40), end)
    word = last.group() if last else ""
    if not word.endswith("."):
        return False  # "!", "?", "…" or a closing quote end the sentence
    stem = word[:-1].lstrip("(\"'“‘")
    nxt = _NEXT_WORD.match(text, next_start)
    following = nxt.group(1) if nxt else ""
    if stem in TITLES:
        return True
    if stem in BEFORE_NUMBER:
        return following[:1].isdigit()
    if _INITIAL.fullmatch(stem + ".") or _ACRONYM.fullmatch(stem + "."):
        return following not in STARTERS and not following[:1].isdigit()
    return False


def sentences(text: str) -> list[str]:
    """Split text into sentences (paragraph breaks always end one). Good enough for news prose."""
    return [s for para in text.split("\n") for s in paragraph_sentences(para)]


def sentence_key(sentence: str) -> str:
    """Normalized form of a sentence for repetition counting: case, quotes and spacing folded."""
    s = sentence.lower().translate(_QUOTES)
    return re.sub(r"[^a-z0-9']+", " ", s).strip()


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
