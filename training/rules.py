"""Labeling functions from the schema's rules, and how their votes become weak labels.

Each rule of ``configs/labels.yaml`` becomes a named labeling function that votes for (or, for a topic,
against) one label or abstains, in the manner of Snorkel's ``@labeling_function``. A rule votes when enough
sentences of its scope match (``Rule.hits_needed``: ``min_hits``, grown by ``min_share`` with the article's
length up to ``max_hits``; a sentence of the lead counts ``lead_hits``). Votes are summed per
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
from bisect import bisect_right
from dataclasses import dataclass, field

from inference.pages import sentences
from inference.schema import Rule, Schema

from .alternation import compile_alternation

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
    # all patterns in one alternation: `_any` (set only when the patterns hold no capital letter) runs on
    # lowercased text, compiled as a prefix tree (training.alternation): many times faster than `_any_i`
    _any: re.Pattern | None = field(repr=False, default=None)
    _any_i: re.Pattern | None = field(repr=False, default=None)

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

    def __call__(self, title: str, sents: list[str], scopes: dict | None = None) -> int:
        scopes = scopes or make_scopes(title, sents)
        scope, text, lower, starts, lead = scopes[self.rule.scope]
        need = self.rule.hits_needed(len(scope))
        # One scan of the whole scope with all patterns; a match then counts for its sentence when no
        # `unless` is in that sentence and a `near` pattern is close enough. The first `lead` sentences of
        # the scope are the article's lead: each counts `lead_hits`.
        counted: set[int] = set()
        hits = 0
        for m in self._any.finditer(lower) if self._any and lower is not None else self._any_i.finditer(text):
            i = bisect_right(starts, m.start()) - 1
            if i in counted:
                continue
            sent, lo = scope[i], m.start() - starts[i]
            if m.end() - starts[i] > len(sent):  # ran over the sentence's end: judge the sentence alone
                ok = self.hits(sent)
            else:
                ok = not any(u.search(sent) for u in self._unless) and (
                    not self._near or self._near_match(sent, lo, m.end() - starts[i]))
            if ok:
                counted.add(i)
                hits += self.rule.lead_hits if i < lead else 1
                if hits >= need:
                    return self.vote
        return ABSTAIN


def make_scopes(title: str, sents: list[str]) -> dict:
    """Each scope's sentences, joined text, lowercased text (None where lowercasing moves offsets), sentence
    start offsets and how many of its first sentences are the lead: computed once per article for all
    labeling functions. A title that only repeats the start of the first sentence (a feed without titles
    gives its first line as one) is not counted twice in the text and the lead."""
    first = sents[0] if sents else ""
    repeated = bool(title and first) and (first.startswith(title.strip()) or title.strip().startswith(first))
    head = [] if repeated else [title]
    out = {}
    for name, scope in (("title", [title]), ("lead", head + sents[:3]), ("text", head + sents)):
        scope = [x for x in scope if x]
        text = "\n".join(scope)
        lower = text.lower()
        starts, pos = [], 0
        for x in scope:
            starts.append(pos)
            pos += len(x) + 1
        lead = len(scope) if name != "text" else len([x for x in head + sents[:3] if x])
        out[name] = (scope, text, lower if len(lower) == len(text) else None, starts, lead)
    return out


def labeling_functions(schema: Schema) -> list[LabelingFunction]:
    """Compile the schema's rules (case-insensitive regexes) into labeling functions."""

    def comp(pats):
        return tuple(re.compile(p, re.I) for p in pats)

    out = []
    for r in schema.rules:
        joined = "|".join(f"(?:{p})" for p in r.patterns)
        # a pattern with no capital letter (so no \\W, \\S, \\B, \\D either) matches lowercased text as re.I would
        out.append(LabelingFunction(r.name, r.label, r.vote, r.weight, r, comp(r.patterns), comp(r.near),
                                    comp(r.unless), compile_alternation(joined) if joined == joined.lower() else None,
                                    re.compile(joined, re.I)))
    return out


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
    scopes = make_scopes(title, sents)
    votes = {lf.name: v for lf in lfs if (v := lf(title, sents, scopes)) != ABSTAIN}
    return combine(schema, lfs, votes, extra)
