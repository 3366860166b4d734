"""What the queue and the page know about each article of the pool, computed once: the model's scores, stance
probabilities and evidence sentence per topic (``Tagger.predict`` with every threshold at 0, so every topic has
its evidence), the rules' votes (``Tagger.rule_votes``; without a model, the dataset schema's rules) and the
model encoder's vector of each article (:func:`pool_embeddings`, for the queue's novelty).

Example:
    >>> signals, notes = pool_signals([(title, text), ...], schema, tagger)
    >>> notes[0]["evidence"]["ceasefire"]   # the sentence that drove the model's ceasefire score
"""

from __future__ import annotations

import numpy as np

from inference.blend import rule_votes
from inference.cli import progress
from inference.errors import NewstagError
from inference.rules import labeling_functions

from .queue import Signals


def check_labels(tagger, schema) -> None:
    """A model reviewed against a dataset must tag the dataset's labels, in its order."""
    if list(tagger.topics) != schema.topic_names or list(tagger.stances) != schema.stance_names:
        raise NewstagError(f"the model tags topics {', '.join(tagger.topics)} and stances {', '.join(tagger.stances)}; "
                           f"the dataset has {', '.join(schema.topic_names)} and {', '.join(schema.stance_names)}: "
                           "pass a model trained on this schema, or none (--model left out: rules only)")


def pool_signals(articles: list[tuple[str | None, str]], schema, tagger=None, batch_size: int = 16,
                 desc: str = "scoring") -> tuple[Signals, list[dict]]:
    """The queue's :class:`Signals` for ``(title, text)`` articles and, per article, the notes the page shows:
    ``evidence`` (topic -> sentence, with a model) and ``voters`` (label -> the rules that voted for it).

    A progress bar is drawn on a terminal only.
    """
    topics, stances = tuple(schema.topic_names), tuple(schema.stance_names)
    need = np.array([t.min_votes for t in schema.topics], dtype=float)
    notes: list[dict] = [{"evidence": {}, "voters": {}} for _ in articles]
    topic_p = stance_p = thresholds = embeddings = None
    if tagger is not None:
        check_labels(tagger, schema)
        votes = tagger.rule_votes(articles)
        everything = {t: 0.0 for t in topics}  # every topic comes back, with its evidence sentence
        results = tagger.pipe(articles, batch_size=batch_size, thresholds=everything, evidence=True)
        topic_p = np.zeros((len(articles), len(topics)))
        stance_p = np.zeros((len(articles), len(stances)))
        for i, r in enumerate(progress(results, total=len(articles), desc=desc, unit=" articles")):
            topic_p[i] = [r.topic_scores[t] for t in topics]
            stance_p[i] = [r.stance_probs[s] for s in stances]
            notes[i]["evidence"] = {t.name: t.evidence for t in r.topics if t.evidence}
        thresholds = np.asarray(tagger.thresholds, dtype=float)
        embeddings = pool_embeddings(tagger, articles, batch_size)
    else:
        votes = rule_votes(schema, labeling_functions(schema), articles)
    for i, v in enumerate(votes.voters):
        notes[i]["voters"] = {label: list(names) for label, names in v.items()}
    signals = Signals(topics, stances, np.asarray(votes.margins, float), need, np.asarray(votes.stance, float),
                      topic_p, thresholds, stance_p, embeddings)
    return signals, notes


def pool_embeddings(tagger, articles: list[tuple[str | None, str]], batch_size: int = 16) -> np.ndarray:
    """(articles, hidden) float32: the tagger's encoder on each article's first window (title and lead),
    mean-pooled over its tokens: the features the trainer's linear probe reads (``head_init``).

    Example:
        >>> pool_embeddings(tagger, [("Truce holds", "The ceasefire held overnight ...")]).shape
        (1, 384)
    """
    from inference.windows import encode_windows

    from ..trainer.probe import first_window_features

    if not articles:
        return np.zeros((0, 0), dtype=np.float32)
    win = encode_windows(tagger.tokenizer, [a[0] for a in articles], [a[1] for a in articles], tagger.max_length,
                         tagger.stride, max_windows=1)
    first = {}  # article -> its first window
    for w, art in enumerate(win.article):
        first.setdefault(art, win.input_ids[w])
    feats = first_window_features(tagger.model, [first[i] for i in range(len(articles))],
                                  tagger.tokenizer.pad_token_id or 0, batch_size, tagger.device, bf16=False, log=False)
    return feats.numpy()


def signals_to_dict(s: Signals) -> dict:
    """Plain lists for a JSON cache, the embeddings left out (an array file holds them); :func:`signals_from_dict`
    reads them back."""
    arr = {k: None if getattr(s, k) is None else np.asarray(getattr(s, k)).tolist()
           for k in ("margins", "need", "rule_stance", "topic_p", "thresholds", "stance_p")}
    return {"topics": list(s.topics), "stances": list(s.stances), **arr}


def signals_from_dict(d: dict, embeddings: np.ndarray | None = None) -> Signals:
    def a(key):
        return None if d[key] is None else np.asarray(d[key], dtype=float)

    n_t, n_s = len(d["topics"]), len(d["stances"])
    margins = a("margins").reshape(-1, n_t)
    return Signals(tuple(d["topics"]), tuple(d["stances"]), margins, a("need"), a("rule_stance").reshape(-1, n_s),
                   None if d["topic_p"] is None else a("topic_p").reshape(-1, n_t), a("thresholds"),
                   None if d["stance_p"] is None else a("stance_p").reshape(-1, n_s), embeddings)
