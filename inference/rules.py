"""Labeling functions from the schema's rules, and how their votes become weak labels.

Each rule of ``configs/labels.yaml`` becomes a named labeling function that votes for (or, for a topic,
against) one label or abstains, in the manner of Snorkel's ``@labeling_function``. A rule votes when enough
sentences of its scope match (``Rule.hits_needed``: ``min_hits``, grown by ``min_share`` with the article's
length up to ``max_hits``; a sentence of the lead counts ``lead_hits``). Votes are summed per
label with the rules' weights: a topic is given when its sum reaches the topic's ``min_votes``; the stance
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
from typing import TYPE_CHECKING

from .alternation import compile_alternation
from .sentences import sentences
from .validation import check_keys, compile_patterns, fail

if TYPE_CHECKING:
    from .schema import Schema

ABSTAIN = 0
WORD = re.compile(r"\w+")
RULE_KEYS = {"name", "label", "keywords", "patterns", "near", "window", "unless", "vote", "weight", "scope", "min_hits",
             "min_share", "max_hits", "lead_hits"}
EMBED_KEYS = {"enabled", "min_similarity", "weight", "model", "stances"}
SCOPES = {"text", "title", "lead"}


@dataclass(frozen=True)
class Rule:
    """One keyword/regex labeling function: votes ``vote`` for ``label`` or abstains."""

    name: str
    label: str
    patterns: tuple[str, ...]
    near: tuple[str, ...] = ()
    window: int = 12
    unless: tuple[str, ...] = ()
    vote: int = 1
    weight: float = 1.0
    scope: str = "text"
    min_hits: int = 1
    min_share: float = 0.0  # hits needed grow with the scope: at least this share of its sentences ...
    max_hits: int = 0  # ... but no more than this many (0: no cap; never fewer than min_hits)
    lead_hits: int = 1  # a matching sentence of the lead (title and first three sentences) counts this many

    def hits_needed(self, sentences: int) -> int:
        """Matching sentences (lead ones counting ``lead_hits``) the rule needs in a scope of ``sentences``."""
        need = max(self.min_hits, math.ceil(round(self.min_share * sentences, 6)))
        return max(self.min_hits, min(need, self.max_hits)) if self.max_hits else need


@dataclass(frozen=True)
class EmbeddingRule:
    """The builder's zero-shot vote by sentence similarity to a label's description (``training.builder``)."""

    enabled: bool = False
    min_similarity: float = 0.45
    weight: float = 1.0
    model: str | None = None
    stances: bool = False


def parse_rules(raw_rules, labels: set[str], topics: set[str], source: str) -> tuple[Rule, ...]:
    """Validate the schema's ``rules:`` list (every pattern compiled once, to check it) into ``Rule``s.

    Raises:
        NewstagError: naming the file, the rule's key and the fix.
    """
    rules, rule_names = [], set()
    raw_rules = raw_rules or []
    if not isinstance(raw_rules, list):
        fail(source, "rules", "must be a list", "write one '- name: ...' entry per labeling rule")
    for i, r in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(r, dict):
            fail(source, where, "must be a mapping", "give name, label and keywords or patterns")
        check_keys(source, where, r, RULE_KEYS)
        name = r.get("name", f"rule_{i}")
        if name in rule_names:
            fail(source, f"{where}.name", f"duplicate rule name '{name}'", "give each rule a distinct name")
        rule_names.add(name)
        label = r.get("label")
        if label not in labels:
            fail(source, f"{where}.label", f"rule '{name}' names unknown label '{label}'",
                 f"use a topic or stance defined above ({', '.join(sorted(labels))})")
        patterns = compile_patterns(source, f"{where}.keywords", r.get("keywords"), literal=True) + compile_patterns(
            source, f"{where}.patterns", r.get("patterns"))
        if not patterns:
            fail(source, where, f"rule '{name}' has no keywords or patterns", "add 'keywords:' or 'patterns:'")
        vote = int(r.get("vote", 1))
        if vote not in (1, -1) or (vote == -1 and label not in topics):
            fail(source, f"{where}.vote", f"vote must be 1, or -1 for a topic (got {r.get('vote')!r})", "use 1 or -1")
        scope = r.get("scope", "text")
        if scope not in SCOPES:
            fail(source, f"{where}.scope", f"unknown scope {scope!r}", f"use one of {', '.join(sorted(SCOPES))}")
        rules.append(Rule(
            name=name, label=label, patterns=patterns,
            near=compile_patterns(source, f"{where}.near", r.get("near")),
            window=int(r.get("window", 12)),
            unless=compile_patterns(source, f"{where}.unless", r.get("unless")),
            vote=vote, weight=float(r.get("weight", 1.0)), scope=scope, **_evidence(source, where, r),
        ))
    return tuple(rules)


def _evidence(source: str, where: str, r: dict) -> dict:
    """The keys that say how many matching sentences a rule needs, checked."""
    out = {}
    for key, lowest in (("min_hits", 1), ("max_hits", 0), ("lead_hits", 1), ("min_share", 0.0)):
        if key not in r:
            continue
        value, share = r[key], key == "min_share"
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or value < lowest or (share and value > 1) or (not share and value != int(value)):
            need = "a share of the sentences from 0 to 1" if share else f"a whole number of at least {lowest}"
            fail(source, f"{where}.{key}", f"must be {need} (got {value!r})",
                 f"write e.g. '{key}: {0.1 if share else max(lowest, 2)}'")
        out[key] = float(value) if share else int(value)
    return out


def parse_embedding_rule(raw, source: str) -> EmbeddingRule:
    emb = raw or {}
    if not isinstance(emb, dict):
        fail(source, "embedding_rule", "must be a mapping", "write 'enabled: true' under it")
    check_keys(source, "embedding_rule", emb, EMBED_KEYS)
    return EmbeddingRule(enabled=bool(emb.get("enabled", False)), min_similarity=float(emb.get("min_similarity", 0.45)),
                         weight=float(emb.get("weight", 1.0)), model=emb.get("model"),
                         stances=bool(emb.get("stances", False)))


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
    # lowercased text, compiled as a prefix tree (inference.alternation): many times faster than `_any_i`
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


def label_scores(schema: Schema, lfs: list[LabelingFunction], votes: dict[str, int],
                 extra: dict[str, float] | None = None) -> dict[str, float]:
    """The summed weighted votes of every topic and stance (0 where no rule voted)."""
    score = {name: 0.0 for name in schema.topic_names + schema.stance_names}
    for lf in lfs:
        v = votes.get(lf.name, ABSTAIN)
        if v:
            score[lf.label] += v * lf.weight
    for name, s in (extra or {}).items():
        score[name] += s
    return score


def vote(lfs: list[LabelingFunction], title: str, text: str) -> dict[str, int]:
    """Every labeling function's vote on one article, abstentions left out."""
    sents = sentences(text)
    scopes = make_scopes(title, sents)
    return {lf.name: v for lf in lfs if (v := lf(title, sents, scopes)) != ABSTAIN}


def combine(schema: Schema, lfs: list[LabelingFunction], votes: dict[str, int],
            extra: dict[str, float] | None = None) -> WeakLabel:
    """Weighted vote per label. ``extra`` adds scores from other sources (the embedding rule)."""
    score = label_scores(schema, lfs, votes, extra)
    topics, conf = [], {}
    for t in schema.topics:
        margin = score[t.name] - t.min_votes
        if margin >= 0:
            topics.append(t.name)
        # distance from min_votes, squashed: 0.5 there, near 1 far from it on either side
        conf[t.name] = round(1.0 / (1.0 + math.exp(-2.0 * (abs(margin) + 0.5))), 3)
    stance_scores = {s: score[s] for s in schema.stance_names}
    stance = rule_stance(stance_scores, schema.default_stance)
    if max(stance_scores.values()) <= 0:
        sconf = 0.5
    else:
        total = sum(math.exp(v) for v in stance_scores.values())
        sconf = math.exp(stance_scores[stance]) / total
    return WeakLabel(tuple(topics), conf, stance, round(sconf, 3), votes)


def rule_stance(stance_scores: dict[str, float], default: str) -> str:
    """The stance with the highest summed votes; ``default`` where no stance rule voted or two stances tie."""
    best = max(stance_scores.values())
    leaders = [s for s, v in stance_scores.items() if v == best]
    return leaders[0] if best > 0 and len(leaders) == 1 else default


def weak_label(schema: Schema, lfs: list[LabelingFunction], title: str, text: str,
               extra: dict[str, float] | None = None) -> WeakLabel:
    """Run every labeling function on one article and combine the votes."""
    return combine(schema, lfs, vote(lfs, title, text), extra)
