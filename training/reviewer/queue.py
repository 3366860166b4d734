"""The review queue: which unlabeled article an analyst should label next.

An article ranks high when its decision would teach the most (``teach``, the default):

- **uncertainty** of the model: per topic, how close the score is to the topic's threshold (1 on it, 0 at 0 or
  1), the closest topic counting; and the stance's margin between its two likeliest classes (half weight).
  Without a model, the rules' own doubt: a topic with some votes but fewer than it needs, or one that only just
  fired; stances that several rules voted for, or a tie;
- **disagreement** of rules and model: a topic one gives and the other does not, a stance they differ on;
- **rarity**: how likely the article holds a topic that is rare among the labels so far (the dataset's labels
  plus the decisions of this review): ``max_t p_t * log((N + 1) / (count_t + 1)) / log(N + 1)``, so a rare
  topic's likely articles come before the thousandth armed clash;
- **novelty** (with a model): how unlike the article is to every article decided so far in this review,
  ``1 - max cosine similarity``, clipped to [0, 1], on the model's encoder vectors of the articles (their first
  window, mean-pooled; centred on the pool's mean, so the similarity is not the near 1 every pair of raw
  transformer vectors shares). Uncertainty alone picks doubtful articles that are doubtful for the same reason,
  one after the other; the novelty term spends the next decision elsewhere (uncertainty plus diversity, weighed
  like Brinker's 2003 "Incorporating diversity in active learning with support vector machines"; here at equal
  weight, like the other terms). 1 for every article before the first decision;

each in [0, 1], summed (stance uncertainty at half weight). Decisions update the counts and the novelty, so
the ranking moves as the analyst works. An article is not offered once it or a near duplicate (one of its group, see
:func:`near_groups`) has a decision. ``random`` is a seeded shuffle (the baseline a queue must beat); ``topic``
offers the articles likeliest to hold one topic first.

The same class serves the page (``training.reviewer.session``) and the simulated analyst of
``benchmarks/bench_review.py``.

Example:
    >>> signals, _ = pool_signals([(title, text), ...], schema, tagger)   # training.reviewer.signals
    >>> q = ReviewQueue(signals, near_groups(texts), prior_counts, prior_labeled)
    >>> i = q.next()                     # index of the best article
    >>> q.decide(i, ["ceasefire"])       # its group leaves the queue, counts and novelty move
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MODES = ("teach", "random", "topic")


@dataclass(frozen=True)
class Signals:
    """What the rules and (optionally) the model say about each article of the pool, as arrays.

    Attributes:
        margins: (articles, topics) the rules' summed votes minus the topic's ``min_votes`` (fired at >= 0).
        need: (topics,) the topics' ``min_votes``.
        rule_stance: (articles, stances) the rules' summed stance votes.
        topic_p, thresholds, stance_p: the model's calibrated topic scores, its thresholds and stance
            probabilities; None without a model.
        embeddings: (articles, hidden) the model's encoder vector of each article (first window, mean-pooled);
            None without a model.
    """

    topics: tuple[str, ...]
    stances: tuple[str, ...]
    margins: np.ndarray
    need: np.ndarray
    rule_stance: np.ndarray
    topic_p: np.ndarray | None = None
    thresholds: np.ndarray | None = None
    stance_p: np.ndarray | None = None
    embeddings: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.margins)

    @property
    def rules_fired(self) -> np.ndarray:
        return self.margins >= 0

    @property
    def rule_stance_index(self) -> np.ndarray:
        """Per article the rules' stance (index), -1 where no rule voted or the top stances tie."""
        best = self.rule_stance.max(1)
        leaders = (self.rule_stance == best[:, None]).sum(1)
        return np.where((best > 0) & (leaders == 1), self.rule_stance.argmax(1), -1)

    @property
    def model_topics(self) -> np.ndarray | None:
        return None if self.topic_p is None else self.topic_p >= self.thresholds

    def likelihood(self) -> np.ndarray:
        """(articles, topics) how likely each article holds each topic: the model's score, else the rules' view
        (1 fired, 0.5 some votes, 0 none)."""
        if self.topic_p is not None:
            return self.topic_p
        votes = self.margins + self.need
        return np.where(self.margins >= 0, 1.0, np.where(votes > 0, 0.5, 0.0))


def uncertainty(s: Signals) -> np.ndarray:
    """Per article in [0, 1.5]: the most doubtful topic plus half the stance's doubt (see the module docstring)."""
    if s.topic_p is not None:
        thr = np.clip(s.thresholds, 1e-6, 1 - 1e-6)
        room = np.where(s.topic_p < thr, thr, 1 - thr)
        topic = (1 - np.abs(s.topic_p - thr) / room).clip(0, 1).max(1)
        top2 = np.sort(s.stance_p, axis=1)[:, -2:]
        stance = 1 - (top2[:, 1] - top2[:, 0])
    else:
        votes = s.margins + s.need
        partial = (votes > 0) & (s.margins < 0)
        barely = (s.margins >= 0) & (s.margins < 1)
        topic = np.where(partial, 1.0, np.where(barely, 0.5, 0.0)).max(1) if s.margins.size else np.zeros(len(s))
        stance = ((s.rule_stance > 0).sum(1) > 1).astype(float)
    return topic + 0.5 * stance


def disagreement(s: Signals) -> np.ndarray:
    """Per article in [0, 1]: half for any topic rules and model decide differently, half for the stance (where
    the rules voted one). 0 without a model."""
    if s.topic_p is None:
        return np.zeros(len(s))
    topics = (s.model_topics != s.rules_fired).any(1).astype(float)
    rule = s.rule_stance_index
    stance = ((rule >= 0) & (rule != s.stance_p.argmax(1))).astype(float)
    return 0.5 * topics + 0.5 * stance


def rarity_weights(counts: np.ndarray, labeled: int) -> np.ndarray:
    """Per topic in [0, 1]: ``log((N + 1) / (count + 1)) / log(N + 1)`` for N labeled articles."""
    n = max(int(labeled), 1)
    return np.log((n + 1) / (np.asarray(counts, dtype=float) + 1)).clip(min=0) / np.log(n + 1)


def near_groups(texts: Sequence[str], min_similarity: float = 0.3, clusters: Sequence[str] | None = None) -> list[str]:
    """A group key per article: articles that share a duplicate cluster (the dataset's ``cluster`` column) or
    whose word 3-grams overlap by ``min_similarity`` (the builder's MinHash deduplicator, at a looser setting
    than the builder's) share a key. ``min_similarity`` >= 1 groups by cluster only."""
    from training.builder.dedup import Deduplicator

    keys = [f"c:{c}" for c in clusters] if clusters is not None else [f"i:{i}" for i in range(len(texts))]
    if min_similarity >= 1:
        return keys
    dedup = Deduplicator(min_similarity=min_similarity)
    for key, text in zip(keys, texts):
        if key not in dedup.parent:  # articles of one cluster join through their key
            dedup.add(key, text)
    roots = dedup.clusters()
    return [roots.get(k, k) for k in keys]


class ReviewQueue:
    """Ranks the pool's articles for review and tracks what was decided or skipped.

    Args:
        signals: the rules' and model's view of the pool (:class:`Signals`).
        groups: a near-duplicate group key per article (:func:`near_groups`).
        prior_counts: (topics,) how many labeled articles hold each topic before this review (the dataset's
            labels), and ``prior_labeled`` how many labeled articles that is; rarity is computed from them plus
            the decisions.
        seed: of the ``random`` order.
        diversity: add the novelty term to ``teach`` (where the signals hold embeddings); False ranks by
            uncertainty, disagreement and rarity alone (the ranking before novelty, for comparing the two).
    """

    def __init__(self, signals: Signals, groups: Sequence[str], prior_counts: Sequence[float] | None = None,
                 prior_labeled: int = 0, seed: int = 0, diversity: bool = True):
        n = len(signals)
        if len(groups) != n:
            raise ValueError(f"{len(groups)} group keys for {n} articles")
        self.signals = signals
        self.groups = list(groups)
        self.counts = np.zeros(len(signals.topics)) if prior_counts is None else np.asarray(prior_counts, float).copy()
        self.labeled = int(prior_labeled)
        self.base = uncertainty(signals) + disagreement(signals)  # what decisions do not change
        self.likely = signals.likelihood()
        self.order = np.random.default_rng(seed).permutation(n)
        self.rank_random = np.empty(n)
        self.rank_random[self.order] = np.arange(n)
        self.done_groups: set[str] = set()
        self.decided = np.zeros(n, dtype=bool)
        self.skipped = np.zeros(n, dtype=bool)
        self.unit = None  # centred, unit-length encoder vectors: a dot product is a cosine similarity
        if diversity and signals.embeddings is not None and n:
            centred = np.asarray(signals.embeddings, dtype=float) - np.mean(signals.embeddings, axis=0)
            self.unit = centred / np.linalg.norm(centred, axis=1, keepdims=True).clip(min=1e-12)
        self.closest = np.zeros(n)  # per article the highest similarity to a decided one (0: none decided yet)

    def open(self) -> np.ndarray:
        """Articles still offered: not decided, no near duplicate decided."""
        closed = np.fromiter((g in self.done_groups for g in self.groups), dtype=bool, count=len(self.groups))
        return ~self.decided & ~closed

    def novelty(self) -> np.ndarray:
        """Per article in [0, 1]: 1 - its highest cosine similarity to a decided article; 0 without embeddings."""
        return (1 - self.closest).clip(0, 1) if self.unit is not None else np.zeros(len(self.groups))

    def priority(self, mode: str = "teach", topic: str | None = None) -> np.ndarray:
        """Per article the score the mode ranks by (higher first)."""
        if mode == "teach":
            rare = rarity_weights(self.counts, self.labeled)
            score = self.base + self.novelty()
            return score + (self.likely * rare).max(1) if self.likely.size else score
        if mode == "random":
            return -self.rank_random
        if mode == "topic":
            if topic not in self.signals.topics:
                raise ValueError(f"unknown topic {topic!r}; topics are {', '.join(self.signals.topics)}")
            j = self.signals.topics.index(topic)
            return self.likely[:, j] + 1e-3 * self.base  # ties: the more instructive first
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")

    def ranked(self, mode: str = "teach", topic: str | None = None, exclude: set[int] = frozenset(),
               limit: int | None = None) -> list[int]:
        """Open articles best first (skipped ones last), leaving out ``exclude``."""
        score = self.priority(mode, topic)
        idx = np.flatnonzero(self.open())
        if exclude:
            idx = idx[~np.isin(idx, list(exclude))]
        # skipped articles after every other one, each group in its score order; ties by the random order
        keys = np.lexsort((self.rank_random[idx], -score[idx], self.skipped[idx]))
        out = idx[keys]
        return [int(i) for i in (out if limit is None else out[:limit])]

    def next(self, mode: str = "teach", topic: str | None = None, exclude: set[int] = frozenset()) -> int | None:
        """The best open article, or None when none is left."""
        best = self.ranked(mode, topic, exclude, limit=1)
        return best[0] if best else None

    def decide(self, i: int, topics: Sequence[str]) -> None:
        """Article ``i`` got a decision holding ``topics``: it and its near duplicates leave the queue, and
        articles like it lose novelty."""
        if not self.decided[i]:
            self.labeled += 1
            for t in topics:
                self.counts[self.signals.topics.index(t)] += 1
            if self.unit is not None:
                self.closest = np.maximum(self.closest, self.unit @ self.unit[i])
        self.decided[i] = True
        self.done_groups.add(self.groups[i])

    def skip(self, i: int) -> None:
        """Article ``i`` goes after every article not skipped (for as long as this queue lives)."""
        self.skipped[i] = True

    def remaining(self) -> int:
        return int(self.open().sum())
