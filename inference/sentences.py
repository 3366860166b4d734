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


# a text is hard-wrapped when it has this many line breaks inside paragraphs or more, and no longer lines
WRAP_MIN_BREAKS = 3
WRAP_MAX_WIDTH = 100


def unwrap(text: str) -> str:
    """``text`` with its paragraphs one a line: a hard-wrapped text (a wire feed or a plain-text page broken at
    a fixed width, so that many lines end mid-sentence) has its lines joined back into paragraphs at blank or
    indented lines; any other text is returned as it is. Without this each wrapped line would be read as a
    sentence of its own.

    Example:
        >>> unwrap("Troops crossed the\nborder at dawn and\nmoved on the\ncapital, officials\nsaid.")
        'Troops crossed the border at dawn and moved on the capital, officials said.'
    """
    lines = text.split("\n")
    if not _hard_wrapped(lines):
        return text
    out, current = [], []
    for line in lines:
        if (not line.strip() or line[:1].isspace()) and current:
            out.append(" ".join(current))
            current = []
        if line.strip():
            current.append(line.strip())
    if current:
        out.append(" ".join(current))
    return "\n".join(out)


def _hard_wrapped(lines: list[str]) -> bool:
    """Whether lines look broken at a fixed width: at least ``WRAP_MIN_BREAKS`` breaks between two non-blank
    lines, a third of them or more before a lower-case word (a sentence goes on: headline lists and one-line
    paragraphs almost never do that), and lines no longer than ``WRAP_MAX_WIDTH`` characters."""
    breaks = mid = 0
    for a, b in zip(lines, lines[1:]):
        if len(a) > WRAP_MAX_WIDTH:
            return False
        if a.strip() and b.strip() and not b[:1].isspace():
            breaks += 1
            mid += b[:1].islower()
    return breaks >= WRAP_MIN_BREAKS and mid * 3 >= breaks and len(lines[-1]) <= WRAP_MAX_WIDTH


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a text, a hard-wrapped one rejoined first (``unwrap``); blank ones kept."""
    return unwrap(text).split("\n")


def sentences(text: str) -> list[str]:
    """Split text into sentences (paragraph breaks always end one; a hard-wrapped text is rejoined into its
    paragraphs first: ``paragraphs``). Good enough for news prose."""
    return [s for para in paragraphs(text) for s in paragraph_sentences(para)]


def sentence_key(sentence: str) -> str:
    """Normalized form of a sentence for repetition counting: case, quotes and spacing folded."""
    s = sentence.lower().translate(_QUOTES)
    return re.sub(r"[^a-z0-9']+", " ", s).strip()


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
