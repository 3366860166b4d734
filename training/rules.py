"""Labeling functions from the schema's rules, and how their votes become weak labels.

Each rule of ``configs/labels.yaml`` becomes a named labeling function that votes for (or, for a topic,
against) one label or abstains, in the manner of Snorkel's ``@labeling_function``. Votes are summed per
label with the rules' weights: a topic is given when its sum reaches the topic's threshold; the stance
with the highest sum wins, else the schema's default stance.

Example:
    >>> lfs = labeling_functions(schema)
    >>> weak = weak_label(schema, lfs, "Truce holds in Aden", "A truce agreed on Sunday held ...")
    >>> weak.topics, weak.stance, weak.votes
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from inference.pages import sentences
from inference.schema import Rule, Schema

ABSTAIN = 0
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LabelingFunction:
    """A compiled rule: ``lf(title, sents)`` returns +1/-1 (its vote) or 0 (abstain)."""

    name: str
    label: str
    vote: int
    weight: float
    rule: Rule = field(repr=False)
    _patterns: tuple = field(repr=False, default=())
    _near: tuple = field(repr=False, default=())
    _unless: tuple = field(repr=False, default=())

    def hits(self, sentence: str) -> bool:
        for pat in self._patterns:
            for m in pat.finditer(sentence):
                if any(u.search(sentence) for u in self._unless):
                    return False
                if not self._near:
                    return True
                if self._near_match(sentence, m.start(), m.end()):
                    return True
        return False

    def _near_match(self, sentence: str, start: int, end: int) -> bool:
        words_before = len(WORD.findall(sentence[:start]))
        words_after = len(WORD.findall(sentence[:end]))
        for near in self._near:
            for n in near.finditer(sentence):
                pos = len(WORD.findall(sentence[: n.start()]))
                if words_before - self.rule.window <= pos <= words_after + self.rule.window:
                    return True
        return False

    def __call__(self, title: str, sents: list[str]) -> int:
        scope = {"title": [title], "lead": [title] + sents[:3], "text": [title] + sents}[self.rule.scope]
        count = sum(1 for s in scope if s and self.hits(s))
        return self.vote if count >= self.rule.min_hits else ABSTAIN


def labeling_functions(schema: Schema) -> list[LabelingFunction]:
    """Compile the schema's rules (case-insensitive regexes) into labeling functions."""

    def comp(pats):
        return tuple(re.compile(p, re.I) for p in pats)

    return [LabelingFunction(r.name, r.label, r.vote, r.weight, r, comp(r.patterns), comp(r.near), comp(r.unless))
            for r in schema.rules]


@dataclass(frozen=True)
class WeakLabel:
    topics: tuple[str, ...]
    topic_confidence: dict[str, float]  # for every topic: confidence in the decision taken
    stance: str
    stance_confidence: float
    votes: dict[str, int]  # labeling function name -> vote, abstentions left out


def combine(schema: Schema, lfs: list[LabelingFunction], votes: dict[str, int],
            extra: dict[str, float] | None = None) -> WeakLabel:
    """Weighted vote per label. ``extra`` adds scores from other sources (the embedding rule)."""
    score = {name: 0.0 for name in schema.topic_names + schema.stance_names}
    for lf in lfs:
        v = votes.get(lf.name, ABSTAIN)
        if v:
            score[lf.label] += v * lf.weight
    for name, s in (extra or {}).items():
        score[name] += s
    topics, conf = [], {}
    for t in schema.topics:
        margin = score[t.name] - t.threshold
        if margin >= 0:
            topics.append(t.name)
        # distance from the threshold, squashed: 0.5 at the threshold, near 1 far from it on either side
        conf[t.name] = round(1.0 / (1.0 + math.exp(-2.0 * (abs(margin) + 0.5))), 3)
    stance_scores = {s: score[s] for s in schema.stance_names}
    best = max(stance_scores.values())
    if best <= 0:
        stance, sconf = schema.default_stance, 0.5
    else:
        leaders = [s for s, v in stance_scores.items() if v == best]
        stance = leaders[0] if len(leaders) == 1 else schema.default_stance
        total = sum(math.exp(v) for v in stance_scores.values())
        sconf = math.exp(stance_scores[stance]) / total
    return WeakLabel(tuple(topics), conf, stance, round(sconf, 3), votes)


def weak_label(schema: Schema, lfs: list[LabelingFunction], title: str, text: str,
               extra: dict[str, float] | None = None) -> WeakLabel:
    """Run every labeling function on one article and combine the votes."""
    sents = sentences(text)
    votes = {lf.name: v for lf in lfs if (v := lf(title, sents)) != ABSTAIN}
    return combine(schema, lfs, votes, extra)
