"""Sentences of article text, and the normalized key under which a sentence is counted as repeated."""

from __future__ import annotations

import re

_SENT = re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")


def paragraph_sentences(paragraph: str) -> list[str]:
    """The sentences of one paragraph, stripped, empty ones left out."""
    return [s.strip() for s in _SENT.split(paragraph) if s.strip()]


def sentences(text: str) -> list[str]:
    """Split text into sentences (paragraph breaks always end one). Good enough for news prose."""
    return [s for para in text.split("\n") for s in paragraph_sentences(para)]


def sentence_key(sentence: str) -> str:
    """Normalized form of a sentence for repetition counting: case, quotes and spacing folded."""
    s = sentence.lower().translate(_QUOTES)
    return re.sub(r"[^a-z0-9']+", " ", s).strip()


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
