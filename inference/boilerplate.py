"""Cross-document boilerplate: the background paragraph an outlet pastes under many stories.

A sentence is a candidate when it appears in at least two different stories: copies and near-duplicate
rewrites of one story count once (the caller passes their cluster as ``group``). A run of two or more
consecutive candidates is boilerplate when one of its sentences appears in at least ``min_articles``
stories: a pasted paragraph travels whole (or in large parts), while a formulaic wire sentence ("Terms
were not disclosed.") or a quoted statement repeats alone.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import chain

from .sentences import paragraph_sentences, paragraphs, sentence_key, sentences

MIN_WORDS = 6  # shorter sentences ("He said.") repeat by chance


def key_hash(sentence: str) -> str:
    return hashlib.blake2b(sentence_key(sentence).encode("utf-8"), digest_size=8).hexdigest()


class BoilerplateCounter:
    """Counts in how many articles each sentence occurs (pass 1), then finds the boilerplate (pass 2)."""

    def __init__(self, min_articles: int = 3):
        self.min_articles = min_articles
        self.counts: Counter[str] = Counter()
        self._seen: set[tuple[str, str]] = set()

    def add(self, text: str, group: str) -> None:
        """Count the sentences of one article; articles of one duplicate ``group`` count once."""
        for h in {key_hash(s) for s in sentences(text) if len(s.split()) >= MIN_WORDS}:
            if (h, group) not in self._seen:
                self._seen.add((h, group))
                self.counts[h] += 1

    def boilerplate_in(self, text: str) -> set[str]:
        """The sentence keys of ``text`` that belong to a boilerplate run."""
        found: set[str] = set()
        run: list[tuple[str, int]] = []
        for s in sentences(text) + [""]:
            h = key_hash(s) if s and len(s.split()) >= MIN_WORDS else None
            c = self.counts.get(h, 0) if h else 0
            if c >= 2:
                run.append((sentence_key(s), c))
                continue
            if len(run) >= 2 and max(n for _, n in run) >= self.min_articles:
                found.update(k for k, _ in run)
            run = []
        return found


def story_group(title: str | None, k: int) -> str:
    """A story's group for counting without duplicate clusters: its title's key (the same story on two pages
    carries the same title), or its position when it has no title."""
    return sentence_key(title or "") or f"#{k}"


def strip_repeated(text: str, counter: BoilerplateCounter) -> str:
    """``text`` without its boilerplate runs, unless they open the article and make up most of it.

    Without duplicate clusters (tagging), a story re-sent under a new title ("UPDATE 2-...") shares its lead
    and most of its sentences with its earlier versions; a pasted paragraph follows the story it is pasted
    under, however short the story.
    """
    keys = counter.boilerplate_in(text)
    if not keys:
        return text
    kept, removed = strip_boilerplate(text, keys)
    sents = sentences(text)
    if 2 * removed > len(sents) and sentence_key(sents[0]) in keys:
        return text
    return kept


def collection_texts(articles, min_articles: int = 3) -> list[str]:
    """The texts of a collection of ``(title, text)`` articles with the collection's boilerplate removed.

    Copies of one story (the same story as a page's main article and in another page's related list) count
    once: articles are grouped by their title's key. Used where no duplicate clusters exist (tagging).
    """
    counter = BoilerplateCounter(min_articles)
    for k, (title, text) in enumerate(articles):
        counter.add(text, story_group(title, k))
    return [strip_repeated(text, counter) for _, text in articles]


def learn_from_stream(items: Iterable, sample: int, article: Callable = lambda item: item,
                      min_articles: int = 3) -> tuple[BoilerplateCounter | None, Iterator]:
    """Learn a stream's boilerplate from its first ``sample`` articles, reading the stream once.

    Args:
        items: any iterator; ``article(item)`` gives an item's ``(title, text)``, or None for an item that is
            no article (a skipped record), which is passed through uncounted.
        sample: articles to learn from; 0 learns nothing.
    Returns:
        (the counter, or None when ``sample`` is 0; the whole stream again, the items already read first), so a
        caller strips with ``strip_repeated(text, counter)`` as it goes.
    """
    it = iter(items)
    if sample <= 0:
        return None, it
    counter, head, k = BoilerplateCounter(min_articles), [], 0
    for item in it:
        head.append(item)
        pair = article(item)
        if pair is not None:
            counter.add(pair[1], story_group(pair[0], k))
            k += 1
            if k >= sample:
                break
    return counter, chain(head, it)


def strip_boilerplate(text: str, keys: set[str]) -> tuple[str, int]:
    """Remove the sentences whose ``sentence_key`` is in ``keys``; returns the text and how many went."""
    if not keys:
        return text, 0
    removed, paras = 0, []
    for para in paragraphs(text):
        kept = []
        for s in paragraph_sentences(para):
            if sentence_key(s) in keys:
                removed += 1
            else:
                kept.append(s)
        if kept:
            paras.append(" ".join(kept))
    return "\n".join(paras), removed
