"""The label schema: topics, stances and the builder's labeling rules, read from YAML and validated.

The schema is data: adding a topic or renaming a stance is an edit of ``configs/labels.yaml``.
A saved model carries its schema, so inference never reads ``configs/``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import NewstagError

_TOP_KEYS = {"version", "topics", "stances", "default_stance", "rules", "embedding_rule"}
_LABEL_KEYS = {"name", "description", "threshold"}
_RULE_KEYS = {"name", "label", "keywords", "patterns", "near", "window", "unless", "vote", "weight", "scope", "min_hits",
              "min_share", "max_hits", "lead_hits"}
_EMBED_KEYS = {"enabled", "min_similarity", "weight", "model", "stances"}
_SCOPES = {"text", "title", "lead"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Label:
    name: str
    description: str
    threshold: float = 1.0  # weak-label score needed for a topic; unused for stances


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
    enabled: bool = False
    min_similarity: float = 0.45
    weight: float = 1.0
    model: str | None = None
    stances: bool = False


@dataclass(frozen=True)
class Schema:
    topics: tuple[Label, ...]
    stances: tuple[Label, ...]
    default_stance: str
    rules: tuple[Rule, ...] = ()
    embedding_rule: EmbeddingRule = field(default_factory=EmbeddingRule)
    version: int = 1

    @property
    def topic_names(self) -> list[str]:
        return [t.name for t in self.topics]

    @property
    def stance_names(self) -> list[str]:
        return [s.name for s in self.stances]

    def to_dict(self) -> dict:
        """Plain dict that ``schema_from_dict`` reads back (what a model folder stores)."""
        rule_dicts = []
        for r in self.rules:
            d = {"name": r.name, "label": r.label, "patterns": list(r.patterns)}
            if r.near:
                d["near"], d["window"] = list(r.near), r.window
            if r.unless:
                d["unless"] = list(r.unless)
            d.update(vote=r.vote, weight=r.weight, scope=r.scope, min_hits=r.min_hits)
            d.update({k: getattr(r, k) for k in ("min_share", "max_hits", "lead_hits")
                      if getattr(r, k) != getattr(Rule, k)})
            rule_dicts.append(d)
        e = self.embedding_rule
        return {
            "version": self.version,
            "topics": [{"name": t.name, "description": t.description, "threshold": t.threshold} for t in self.topics],
            "stances": [{"name": s.name, "description": s.description} for s in self.stances],
            "default_stance": self.default_stance,
            "rules": rule_dicts,
            "embedding_rule": {"enabled": e.enabled, "min_similarity": e.min_similarity, "weight": e.weight,
                               "model": e.model, "stances": e.stances},
        }


def load_schema(path: str | Path) -> Schema:
    """Read and validate a labels YAML file.

    Args:
        path: e.g. ``configs/labels.yaml``.
    Returns:
        The validated ``Schema``.
    Raises:
        NewstagError: naming the file, the key and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise NewstagError(f"labels file {path} not found; pass --labels with the path of a schema like configs/labels.yaml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise NewstagError(f"{path}: not valid YAML ({first}); fix the syntax at the place named") from None
    return schema_from_dict(raw, source=str(path))


def _fail(source: str, key: str, problem: str, fix: str):
    raise NewstagError(f"{source}: {key}: {problem}; {fix}")


def _check_keys(source: str, where: str, got: dict, allowed: set[str]) -> None:
    unknown = sorted(set(got) - allowed)
    if unknown:
        _fail(source, f"{where}.{unknown[0]}", "unknown key", f"use one of {', '.join(sorted(allowed))}")


def _labels(source: str, key: str, raw) -> tuple[Label, ...]:
    if not isinstance(raw, list) or not raw:
        _fail(source, key, "must be a non-empty list", "list entries like '- name: ceasefire' with a description")
    seen, out = set(), []
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            _fail(source, where, "must be a mapping with name and description", "write '- name: X' and 'description: ...'")
        _check_keys(source, where, item, _LABEL_KEYS)
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            _fail(source, f"{where}.name", f"invalid label name {name!r}", "use letters, digits, '_' or '-', starting with a letter")
        if name in seen:
            _fail(source, f"{where}.name", f"duplicate label '{name}'", "give each label a distinct name")
        seen.add(name)
        out.append(Label(name, str(item.get("description", "")), float(item.get("threshold", 1.0))))
    return tuple(out)


def _regexes(source: str, where: str, raw, literal: bool = False) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    out = []
    for j, pat in enumerate(raw):
        if not isinstance(pat, str) or not pat:
            _fail(source, f"{where}[{j}]", "must be a non-empty string", "quote the pattern")
        if literal:  # word boundaries only where the phrase starts or ends with a word character
            body = r"\s+".join(re.escape(w) for w in pat.split())
            pat = (r"\b" if re.match(r"\w", pat) else "") + body + (r"\b" if re.search(r"\w$", pat) else "")
        try:
            re.compile(pat)
        except re.error as err:
            _fail(source, f"{where}[{j}]", f"invalid regular expression {pat!r} ({err})", "fix or escape the pattern")
        out.append(pat)
    return tuple(out)


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
            _fail(source, f"{where}.{key}", f"must be {need} (got {value!r})",
                  f"write e.g. '{key}: {0.1 if share else max(lowest, 2)}'")
        out[key] = float(value) if share else int(value)
    return out


def schema_from_dict(raw, source: str = "<schema>") -> Schema:
    """Validate a schema mapping (from YAML or a model folder) into a ``Schema``."""
    if not isinstance(raw, dict):
        _fail(source, "<top>", "must be a mapping", "start the file with 'topics:' and 'stances:'")
    _check_keys(source, "<top>", raw, _TOP_KEYS)
    for key in ("topics", "stances"):
        if key not in raw:
            _fail(source, key, "missing", f"add a '{key}:' list")
    topics = _labels(source, "topics", raw["topics"])
    stances = _labels(source, "stances", raw["stances"])
    names = {t.name for t in topics} | {s.name for s in stances}
    clash = {t.name for t in topics} & {s.name for s in stances}
    if clash:
        _fail(source, "stances", f"'{sorted(clash)[0]}' is both a topic and a stance", "rename one of them")
    default = raw.get("default_stance", stances[0].name)
    if default not in {s.name for s in stances}:
        _fail(source, "default_stance", f"'{default}' is not a stance", f"use one of {', '.join(s.name for s in stances)}")
    rules, rule_names = [], set()
    raw_rules = raw.get("rules") or []
    if not isinstance(raw_rules, list):
        _fail(source, "rules", "must be a list", "write one '- name: ...' entry per labeling rule")
    for i, r in enumerate(raw_rules):
        where = f"rules[{i}]"
        if not isinstance(r, dict):
            _fail(source, where, "must be a mapping", "give name, label and keywords or patterns")
        _check_keys(source, where, r, _RULE_KEYS)
        name = r.get("name", f"rule_{i}")
        if name in rule_names:
            _fail(source, f"{where}.name", f"duplicate rule name '{name}'", "give each rule a distinct name")
        rule_names.add(name)
        label = r.get("label")
        if label not in names:
            _fail(source, f"{where}.label", f"rule '{name}' names unknown label '{label}'",
                  f"use a topic or stance defined above ({', '.join(sorted(names))})")
        patterns = _regexes(source, f"{where}.keywords", r.get("keywords"), literal=True) + _regexes(
            source, f"{where}.patterns", r.get("patterns"))
        if not patterns:
            _fail(source, where, f"rule '{name}' has no keywords or patterns", "add 'keywords:' or 'patterns:'")
        vote = int(r.get("vote", 1))
        if vote not in (1, -1) or (vote == -1 and label not in {t.name for t in topics}):
            _fail(source, f"{where}.vote", f"vote must be 1, or -1 for a topic (got {r.get('vote')!r})", "use 1 or -1")
        scope = r.get("scope", "text")
        if scope not in _SCOPES:
            _fail(source, f"{where}.scope", f"unknown scope {scope!r}", f"use one of {', '.join(sorted(_SCOPES))}")
        rules.append(Rule(
            name=name, label=label, patterns=patterns,
            near=_regexes(source, f"{where}.near", r.get("near")),
            window=int(r.get("window", 12)),
            unless=_regexes(source, f"{where}.unless", r.get("unless")),
            vote=vote, weight=float(r.get("weight", 1.0)), scope=scope, **_evidence(source, where, r),
        ))
    emb = raw.get("embedding_rule") or {}
    if not isinstance(emb, dict):
        _fail(source, "embedding_rule", "must be a mapping", "write 'enabled: true' under it")
    _check_keys(source, "embedding_rule", emb, _EMBED_KEYS)
    return Schema(
        topics=topics, stances=stances, default_stance=default, rules=tuple(rules),
        embedding_rule=EmbeddingRule(
            enabled=bool(emb.get("enabled", False)), min_similarity=float(emb.get("min_similarity", 0.45)),
            weight=float(emb.get("weight", 1.0)), model=emb.get("model"), stances=bool(emb.get("stances", False))),
        version=int(raw.get("version", 1)),
    )
