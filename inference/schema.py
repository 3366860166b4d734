"""The label schema: topics and stances (and, validated by ``inference.rules``, the labeling rules), read from YAML.

The schema is data: adding a topic or renaming a stance is an edit of ``configs/labels.yaml``.
A saved model carries its schema, so inference never reads ``configs/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import NewstagError
from .rules import EmbeddingRule, Rule, parse_embedding_rule, parse_rules
from .validation import check_keys, fail

_TOP_KEYS = {"version", "topics", "stances", "default_stance", "rules", "embedding_rule"}
_LABEL_KEYS = {"name", "description", "min_votes", "threshold"}  # threshold: the old spelling of min_votes
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class Label:
    name: str
    description: str
    min_votes: float = 1.0  # summed rule votes a topic needs as a weak label; unused for stances


@dataclass(frozen=True)
class Schema:
    topics: tuple[Label, ...]
    stances: tuple[Label, ...]
    default_stance: str
    rules: tuple[Rule, ...] = ()  # empty when read without rules
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
            "topics": [{"name": t.name, "description": t.description, "min_votes": t.min_votes} for t in self.topics],
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


def _labels(source: str, key: str, raw) -> tuple[Label, ...]:
    if not isinstance(raw, list) or not raw:
        fail(source, key, "must be a non-empty list", "list entries like '- name: ceasefire' with a description")
    seen, out = set(), []
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            fail(source, where, "must be a mapping with name and description", "write '- name: X' and 'description: ...'")
        check_keys(source, where, item, _LABEL_KEYS)
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            fail(source, f"{where}.name", f"invalid label name {name!r}", "use letters, digits, '_' or '-', starting with a letter")
        if name in seen:
            fail(source, f"{where}.name", f"duplicate label '{name}'", "give each label a distinct name")
        seen.add(name)
        out.append(Label(name, str(item.get("description", "")), float(item.get("min_votes", item.get("threshold", 1.0)))))
    return tuple(out)


def schema_from_dict(raw, source: str = "<schema>", with_rules: bool = True) -> Schema:
    """Validate a schema mapping (from YAML or a model folder) into a ``Schema``.

    Args:
        with_rules: also validate and compile-check the labeling rules (``inference.rules``); without, the
            schema is the label set alone (``rules`` empty), which is all tagging with a model needs.
    """
    if not isinstance(raw, dict):
        fail(source, "<top>", "must be a mapping", "start the file with 'topics:' and 'stances:'")
    check_keys(source, "<top>", raw, _TOP_KEYS)
    for key in ("topics", "stances"):
        if key not in raw:
            fail(source, key, "missing", f"add a '{key}:' list")
    topics = _labels(source, "topics", raw["topics"])
    stances = _labels(source, "stances", raw["stances"])
    names = {t.name for t in topics} | {s.name for s in stances}
    clash = {t.name for t in topics} & {s.name for s in stances}
    if clash:
        fail(source, "stances", f"'{sorted(clash)[0]}' is both a topic and a stance", "rename one of them")
    default = raw.get("default_stance", stances[0].name)
    if default not in {s.name for s in stances}:
        fail(source, "default_stance", f"'{default}' is not a stance", f"use one of {', '.join(s.name for s in stances)}")
    rules, embedding = (), EmbeddingRule()
    if with_rules:  # the builder's labeling rules; a Tagger reads them only when it uses them
        rules = parse_rules(raw.get("rules"), names, {t.name for t in topics}, source)
        embedding = parse_embedding_rule(raw.get("embedding_rule"), source)
    return Schema(topics=topics, stances=stances, default_stance=default, rules=rules, embedding_rule=embedding,
                  version=int(raw.get("version", 1)))
