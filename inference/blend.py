"""Rules and model together at tagging time: a logistic blend of the model's calibrated logits and the
labeling rules' votes, fitted on hand-labeled validation articles by the trainer.

Per article and topic the blended logit is ``a * model_logit + b * fired + c * margin + d``, where ``fired`` is
1 when the rules give the topic (their summed votes reach its ``min_votes``) and ``margin`` the summed votes
minus ``min_votes``, clipped to [-3, 3]. Four numbers for all topics: a few hundred hand labels fit them, and a
tag can say which rules voted for it. The stance, as the trainer's ``stance_blend`` sets ``stance_kind``: with
``rules_first`` (its default) the rules' where they pick one, else the default unless the model is sure of another,
as in the union below; with ``fitted`` (blends saved before the choice existed), a linear map of the model's stance
logits and the rules' stance scores. On real news the fitted stance lost to the rules' every time it was measured
(``bench_review --finetune 100``: 0.531 against 0.607 after 100 reviewed articles, the topics 0.826 either way).

Without hand labels to fit on, the trainer uses the ``union`` kind instead: a topic the rules give is given
(probability at least ``UNION_P``), and the model adds the topics it scores above their thresholds; the stance
is the rules' where they pick one other than the default stance, else the default unless the model is sure of
another (probability at least ``MODEL_ALONE_P``). A model trained on the rules' own labels of real text learns
what the rules' positives look like and finds more of them; the rules keep the precision they have
(``bench_real``). The stance is left to the rules because no model here has beaten them at it on real text: with
the model's own call where the rules leave the default, heads retrained on a hundred reviewed real articles
score stance macro-F1 0.51 on the other half of the dev set, with the default kept 0.60, the rules' own figure
(``bench_review``).

The ``rules_first`` kind is for a model whose validation articles do not look like the text it will tag (the
bundled sample is invented; real news is not): the rules decide, and the model alone adds a topic, or replaces the
default stance the rules leave, only when it is sure (probability at least ``MODEL_ALONE_P``; the trainer sets every
topic threshold to it). On real news the demo model, trained on the invented sample, scores below its own rules
under both the fitted blend and the union; rules first keeps the rules' figures and lets a sure model add to them
(``bench_real``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rules import LabelingFunction, label_scores, rule_stance, vote
from .schema import Schema
from .scores import softmax

MARGIN_CLIP = 3.0
UNION_P = 0.99  # the probability a topic the rules give gets under the union blend (at least)
UNION_LOGIT = float(np.log(UNION_P / (1 - UNION_P)))
MODEL_ALONE_P = 0.99  # rules_first: the probability the model needs where the rules are silent (its thresholds)
FIRST_P = 0.999  # rules_first: the probability (at least) of a topic the rules give, above every threshold
FIRST_LOGIT = float(np.log(FIRST_P / (1 - FIRST_P)))


@dataclass(frozen=True)
class RuleVotes:
    """The rules' view of a batch of articles."""

    margins: np.ndarray  # (articles, topics): summed votes minus min_votes
    stance: np.ndarray  # (articles, stances): summed votes, 0 where none
    voters: list[dict[str, tuple[str, ...]]]  # per article: label -> the rules that voted for it
    picks: np.ndarray | None = None  # (articles,): the index of the rules' stance (``rules.rule_stance``)

    def topic_features(self, model_logits: np.ndarray) -> np.ndarray:
        """(articles, topics, 4): model logit, fired, clipped margin, 1."""
        fired = (self.margins >= 0).astype(np.float64)
        margin = np.clip(self.margins, -MARGIN_CLIP, MARGIN_CLIP)
        return np.stack([model_logits, fired, margin, np.ones_like(margin)], axis=-1)

    def stance_features(self, model_logits: np.ndarray) -> np.ndarray:
        """(articles, 2 * stances + 1): model stance logits, rule stance scores (clipped), 1."""
        rules = np.clip(self.stance, 0.0, MARGIN_CLIP)
        return np.concatenate([model_logits, rules, np.ones((len(rules), 1))], axis=1)


def rule_votes(schema: Schema, lfs: list[LabelingFunction], articles: list[tuple[str | None, str]]) -> RuleVotes:
    """Run the labeling functions on ``(title, text)`` articles."""
    topics, stances = schema.topic_names, schema.stance_names
    need = np.array([t.min_votes for t in schema.topics])
    margins = np.zeros((len(articles), len(topics)))
    stance = np.zeros((len(articles), len(stances)))
    picks = np.zeros(len(articles), dtype=int)
    voters = []
    by_name = {lf.name: lf for lf in lfs}
    for i, (title, text) in enumerate(articles):
        votes = vote(lfs, title or "", text)
        score = label_scores(schema, lfs, votes)
        margins[i] = [score[t] for t in topics] - need
        stance[i] = [score[s] for s in stances]
        picks[i] = stances.index(rule_stance({s: score[s] for s in stances}, schema.default_stance))
        mine: dict[str, list[str]] = {}
        for name, v in votes.items():
            if v > 0:
                mine.setdefault(by_name[name].label, []).append(name)
        voters.append({label: tuple(names) for label, names in mine.items()})
    return RuleVotes(margins, stance, voters, picks)


@dataclass(frozen=True)
class RuleBlend:
    """Blend weights (``logistic``, fitted) or the ``union`` of rules and model; ``from_manifest`` gives None for a
    model without a blend (the model alone decides)."""

    topic: np.ndarray  # (4,); unused by a union
    stance: np.ndarray  # (stances, 2 * stances + 1); unused by a union
    fitted_on: int = 0  # validation articles
    kind: str = "logistic"
    default_stance: int = -1  # the stance index the rules' silence means (the schema's default stance)
    # a logistic blend's stance: "fitted" (the ``stance`` matrix) or "rules_first" (as the union and rules first:
    # the rules' pick, else the default unless the model is sure); unions and rules first always use the latter
    stance_kind: str = "fitted"

    @classmethod
    def union(cls, n_stances: int, default_stance: int, kind: str = "union") -> RuleBlend:
        """The union, or with ``kind="rules_first"`` the rules first (see the module docstring)."""
        return cls(np.zeros(4), np.zeros((n_stances, 2 * n_stances + 1)), 0, kind, default_stance)

    @property
    def rules_decide(self) -> bool:
        """A union or rules first: nothing fitted, the rules' tags stand."""
        return self.kind in RULE_KINDS

    def topic_logits(self, model_logits: np.ndarray, votes: RuleVotes) -> np.ndarray:
        if self.rules_decide:
            floor = FIRST_LOGIT if self.kind == "rules_first" else UNION_LOGIT
            return np.where(votes.margins >= 0, np.maximum(model_logits, floor), model_logits)
        return votes.topic_features(model_logits) @ self.topic

    def stance_logits(self, model_logits: np.ndarray, votes: RuleVotes) -> np.ndarray:
        if not self.rules_decide and self.stance_kind == "fitted":
            return votes.stance_features(model_logits) @ self.stance.T
        out = np.array(model_logits, dtype=np.float64, copy=True)
        rows = np.flatnonzero(votes.picks != self.default_stance)  # the rules' pick, at UNION_P or more
        out[rows, votes.picks[rows]] = out[rows].max(axis=1) + UNION_LOGIT
        sure = softmax(out).max(axis=1) >= MODEL_ALONE_P
        rest = np.flatnonzero((votes.picks == self.default_stance) & ~sure)  # elsewhere the default, unless
        out[rest, self.default_stance] = out[rest].max(axis=1) + UNION_LOGIT  # the model is sure of another
        return out

    def to_manifest(self) -> dict:
        if self.kind == "rules_first":
            return {"kind": "rules_first", "default_stance": self.default_stance, "rules_p": FIRST_P,
                    "model_alone_p": MODEL_ALONE_P}
        if self.kind == "union":
            return {"kind": "union", "default_stance": self.default_stance, "rules_p": UNION_P,
                    "model_alone_p": MODEL_ALONE_P}
        return {"topic": [float(x) for x in self.topic], "stance": [[float(x) for x in row] for row in self.stance],
                "topic_features": ["model_logit", "rules_fired", "rules_margin", "bias"],
                "stance_features": "model logits, rule scores, bias", "fitted_on": self.fitted_on,
                "stance_kind": self.stance_kind, "default_stance": self.default_stance, "model_alone_p": MODEL_ALONE_P}

    @classmethod
    def from_manifest(cls, manifest: dict) -> RuleBlend | None:
        raw = manifest.get("blend")
        if not raw:
            return None
        if raw.get("kind") in RULE_KINDS:
            n = len(manifest.get("stances", []))
            return cls.union(n, int(raw["default_stance"]), raw["kind"])
        return cls(np.asarray(raw["topic"], dtype=np.float64), np.asarray(raw["stance"], dtype=np.float64),
                   int(raw.get("fitted_on", 0)), default_stance=int(raw.get("default_stance", -1)),
                   stance_kind=raw.get("stance_kind", "fitted"))


RULE_KINDS = ("union", "rules_first")
