"""One review session: a dataset's unlabeled articles, the queue over them, the gold file, the page's views.

The scores and votes of the pool are computed once (:func:`~training.reviewer.signals.pool_signals`) and cached
in the dataset folder's ``cache/`` (a JSON file, and the encoder vectors in an ``.npy`` beside it) under a key of the dataset's fingerprint, the model's id and the grouping
setting, so re-opening a review starts at once. Decisions already in the gold file leave the queue, so the
analyst resumes where they stopped. Thread-safe: the page's requests come from a pool of threads.

Example:
    >>> s = ReviewSession.open("runs/ds", "runs/ds.gold.jsonl", tagger=Tagger.from_pretrained("runs/model"))
    >>> view = s.next_view(client="tab-1")
    >>> s.decide(view["id"], ["ceasefire"], "neutral", client="tab-1")
"""

from __future__ import annotations

import datetime
import hashlib
import json
import threading
import time
from pathlib import Path

import numpy as np

from inference.errors import NewstagError
from inference.rules import labeling_functions
from inference.sentences import paragraph_sentences, paragraphs
from training import dataset_folder

from .gold_file import AlreadyDecided, GoldFile
from .queue import MODES, ReviewQueue, near_groups
from .signals import pool_signals, signals_from_dict, signals_to_dict

LEASE_S = 600.0  # an article shown to one tab is not offered to another for this long
CACHE_VERSION = 2  # 2: the encoder vectors (the queue's novelty)


class ReviewError(Exception):
    """A request the session refuses: ``status`` is the HTTP status the page gets."""

    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


class ReviewSession:
    """The pool, its signals and queue, the gold file and the counters of one review."""

    def __init__(self, rows: list[dict], schema, signals, notes: list[dict], groups: list[str], gold: GoldFile,
                 annotator: str, model: dict | None, prior_counts, prior_labeled: int, seed: int = 0,
                 next_commands: list[str] = ()):
        self.rows, self.schema, self.signals, self.notes = rows, schema, signals, notes
        self.next_commands = list(next_commands)
        self.gold, self.annotator, self.model = gold, annotator, model
        self.index = {r["id"]: i for i, r in enumerate(rows)}
        self.queue = ReviewQueue(signals, groups, prior_counts, prior_labeled, seed)
        self.lfs = {lf.name: lf for lf in labeling_functions(schema)}
        self.leases: dict[int, tuple[str, float]] = {}
        self.lock = threading.Lock()
        self._known: set[str] = set()
        self._sync()

    # ---- opening ---------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, dataset: str | Path, gold_path: str | Path, tagger=None, model_id: str | None = None,
             annotator: str = "analyst", near: float = 0.3, seed: int = 0, cache: bool = True) -> ReviewSession:
        """Read the dataset folder, compute (or load) the pool's signals and open the gold file.

        Args:
            tagger: a ``Tagger`` for the model's scores and evidence; None ranks by the rules alone.
            model_id: the model folder's id (``model_folder.model_id``), for the cache key and the gold lines.
            near: near-duplicate grouping similarity (:func:`~training.reviewer.queue.near_groups`).
        """
        rows, schema, info = dataset_folder.read_articles(dataset)
        pool = [r for r in rows if not r.get("gold")]
        if not pool:
            raise NewstagError(f"{dataset} holds no unlabeled article (every article has a gold label); build the "
                               "dataset without --gold, or with a smaller gold file, to review more")
        counts = np.array([sum(t in r["topics"] for r in rows) for t in schema.topic_names], dtype=float)
        key = hashlib.sha1(json.dumps([CACHE_VERSION, info.get("fingerprint"), model_id, near, len(pool),
                                       pool[0]["id"], pool[-1]["id"]]).encode()).hexdigest()[:16]
        cache_file = dataset_folder.cache_dir(dataset) / f"review-{key}.json"
        loaded = _read_cache(cache_file) if cache else None
        if loaded:
            signals = signals_from_dict(loaded["signals"], loaded["embeddings"])
            notes, groups = loaded["notes"], loaded["groups"]
        else:
            articles = [(r["title"], r["text"]) for r in pool]
            signals, notes = pool_signals(articles, schema, tagger)
            groups = near_groups([f"{r['title']}\n{r['text']}" for r in pool], near, [r["cluster"] for r in pool])
            if cache:
                _write_cache(cache_file, {"signals": signals_to_dict(signals), "notes": notes, "groups": groups},
                             signals.embeddings)
        model = None
        if tagger is not None:
            model = {"name": tagger.name, "version": tagger.version, "id": model_id}
        return cls(pool, schema, signals, notes, groups, GoldFile(gold_path), annotator, model, counts, len(rows), seed,
                   next_commands(dataset, info, gold_path))

    # ---- the queue -------------------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Take in decisions the gold file holds that the queue does not know yet (from the start, or another
        server on the same file)."""
        for key, rec in self.gold.decisions().items():
            if key not in self._known:
                self._known.add(key)
                if key in self.index:
                    self.queue.decide(self.index[key], rec.get("topics", []))

    def next_view(self, client: str, mode: str = "teach", topic: str | None = None) -> dict | None:
        """The view of the next article for ``client`` (a tab), or None when the queue is empty."""
        if mode not in MODES:
            raise ReviewError(422, f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if mode == "topic" and topic not in self.schema.topic_names:
            raise ReviewError(422, f"mode topic needs topic= one of {', '.join(self.schema.topic_names)}")
        with self.lock:
            self._sync()
            now = time.monotonic()
            held = {i for i, (c, t) in self.leases.items() if c != client and now - t < LEASE_S}
            i = self.queue.next(mode, topic, exclude=held)
            if i is None:
                i = self.queue.next(mode, topic)  # only articles another tab holds are left: share them
            if i is None:
                return None
            self.leases = {j: v for j, v in self.leases.items() if v[0] != client}
            self.leases[i] = (client, now)
            return self.view(i)

    def view_of(self, article_id: str) -> dict:
        i = self._find(article_id)
        with self.lock:
            return self.view(i)

    def _find(self, article_id: str) -> int:
        if article_id not in self.index:
            raise ReviewError(404, f"no unlabeled article with id {article_id!r} in this dataset")
        return self.index[article_id]

    # ---- decisions -------------------------------------------------------------------------------------------
    def decide(self, article_id: str, topics: list[str], stance: str, client: str = "", replace: bool = False) -> dict:
        """Write the analyst's decision on one article to the gold file (durably) and take it out of the queue.

        Raises:
            ReviewError: 404 for an id not in the pool, 422 for a label the schema does not know, 409 when the
                article already has a decision and ``replace`` is false.
        """
        i = self._find(article_id)
        bad = [t for t in topics if t not in self.schema.topic_names]
        if bad or len(set(topics)) != len(topics):
            raise ReviewError(422, f"unknown or repeated topic(s) {', '.join(bad) or ', '.join(topics)}; topics are "
                                   f"{', '.join(self.schema.topic_names)}")
        if stance not in self.schema.stance_names:
            raise ReviewError(422, f"unknown stance {stance!r}; stances are {', '.join(self.schema.stance_names)}")
        row, s = self.rows[i], self.signals
        topics = [t for t in self.schema.topic_names if t in topics]
        rule_stance = s.rule_stance_index[i]
        record = {"id": row["id"], "title": row["title"], "topics": topics, "stance": stance,
                  "annotator": self.annotator,
                  "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "model": self.model["name"] if self.model else None,
                  "model_version": self.model["version"] if self.model else None,
                  "model_id": self.model["id"] if self.model else None,
                  "rule_topics": [t for t, fired in zip(s.topics, s.rules_fired[i]) if fired],
                  "rule_stance": s.stances[rule_stance] if rule_stance >= 0 else self.schema.default_stance}
        if s.topic_p is not None:
            record["model_topics"] = [t for t, on in zip(s.topics, s.model_topics[i]) if on]
            record["model_stance"] = s.stances[int(s.stance_p[i].argmax())]
        record["source"] = "newstag-review"
        with self.lock:
            try:
                self.gold.add(record, replace=replace)
            except AlreadyDecided as err:
                self._known.add(row["id"])
                self.queue.decide(i, err.record.get("topics", []))
                raise ReviewError(409, "this article already has a decision (made in another tab or window); "
                                       "go back to it to change it", decision=err.record) from None
            self._known.add(row["id"])
            self.queue.decide(i, topics)
            self.leases.pop(i, None)
        return record

    def skip(self, article_id: str) -> None:
        i = self._find(article_id)
        with self.lock:
            self.queue.skip(i)
            self.leases.pop(i, None)

    # ---- counters --------------------------------------------------------------------------------------------
    def progress(self) -> dict:
        """Reviewed and remaining articles, and how often the rules and the model agreed with the analyst."""
        decisions = [d for k, d in self.gold.decisions().items() if k in self.index]
        with self.lock:
            remaining = self.queue.remaining()
        out = {"reviewed": len(decisions), "pool": len(self.rows), "remaining": remaining, "agreement": {}}
        for who in ("rule", "model"):
            have = [d for d in decisions if f"{who}_topics" in d]
            if have:
                out["agreement"][who] = {
                    "decisions": len(have),
                    "topics": sum(set(d[f"{who}_topics"]) == set(d["topics"]) for d in have) / len(have),
                    "stance": sum(d[f"{who}_stance"] == d["stance"] for d in have) / len(have)}
        return out

    def history(self, limit: int = 50) -> list[dict]:
        """This pool's decisions, the latest last (for going back)."""
        decisions = [d for k, d in self.gold.decisions().items() if k in self.index]
        return [{"id": d["id"], "title": d.get("title", "")} for d in decisions[-limit:]]

    # ---- the page's view of one article ---------------------------------------------------------------------
    def view(self, i: int) -> dict:
        """Everything the page shows of article ``i``: plain data; the page puts it in as text, never as HTML."""
        row, s, note = self.rows[i], self.signals, self.notes[i]
        voters = note["voters"]
        fired = s.rules_fired[i]
        model_on = s.model_topics[i] if s.topic_p is not None else None
        topics = []
        for j, label in enumerate(self.schema.topics):
            t = label.name
            topics.append({
                "name": t, "description": label.description,
                "score": None if s.topic_p is None else round(float(s.topic_p[i, j]), 4),
                "threshold": None if s.thresholds is None else round(float(s.thresholds[j]), 4),
                "model": None if model_on is None else bool(model_on[j]),
                "rules": bool(fired[j]), "votes": round(float(s.margins[i, j] + s.need[j]), 2),
                "needed": float(s.need[j]), "voters": voters.get(t, []), "evidence": note["evidence"].get(t, "")})
        rule_stance = s.rule_stance_index[i]
        stance = {"names": list(s.stances),
                  "descriptions": {x.name: x.description for x in self.schema.stances},
                  "probs": None if s.stance_p is None else {x: round(float(p), 4) for x, p in zip(s.stances, s.stance_p[i])},
                  "model": None if s.stance_p is None else s.stances[int(s.stance_p[i].argmax())],
                  "rules": s.stances[rule_stance] if rule_stance >= 0 else None,
                  "rule_votes": {x: round(float(v), 2) for x, v in zip(s.stances, s.rule_stance[i])},
                  "voters": {x: voters.get(x, []) for x in s.stances}}
        suggested_topics = [t["name"] for t in topics if (t["model"] if model_on is not None else t["rules"])]
        suggested_stance = stance["model"] or stance["rules"] or self.schema.default_stance
        decision = self.gold.get(row["id"])
        return {"id": row["id"], "title": row["title"], "source": row.get("source"), "url": row.get("url"),
                "published": row.get("published"), "paragraphs": self._marked(row, topics),
                "topics": topics, "stance": stance,
                "suggested": {"topics": suggested_topics, "stance": suggested_stance},
                "decision": {"topics": decision["topics"], "stance": decision["stance"]} if decision else None}

    def _marked(self, row: dict, topics: list[dict]) -> list[list[dict]]:
        """The text as paragraphs of sentences, each sentence with the topics it is evidence for: the model's
        evidence sentence of each topic it or the rules give, and the sentences each voting rule matched."""
        evidence = {t["name"]: t["evidence"] for t in topics if t["evidence"] and (t["model"] or t["rules"])}
        rules = [(t["name"], name) for t in topics for name in t["voters"] if name in self.lfs]
        out = []
        for para in paragraphs(row["text"]):
            sents = []
            for sent in paragraph_sentences(para):
                marks = [{"topic": t, "by": "model"} for t, ev in evidence.items() if ev and (ev in sent or sent in ev)]
                marks += [{"topic": t, "by": "rule", "rule": name} for t, name in rules if self.lfs[name].hits(sent)]
                sents.append({"text": sent, "marks": marks})
            if sents:
                out.append(sents)
        return out


def next_commands(dataset: str | Path, info: dict, gold_path: str | Path) -> list[str]:
    """The build and training commands that feed the decisions to the next model (the dataset's own inputs and
    options where its fingerprint record names them)."""
    import os
    import shlex

    out = Path(dataset)
    inputs = info.get("inputs") or ["INPUTS"]
    if len(inputs) > 3:  # the record lists every file: their common folder reads better (and finds new pages)
        try:
            inputs = [os.path.commonpath(inputs) or "INPUTS"]
        except ValueError:  # absolute and relative paths mixed
            inputs = ["INPUTS"]
    first, gold = [], str(gold_path)
    if info.get("gold"):  # the dataset's own hand labels go on with the review's (the review's line wins on an id)
        gold = f"{out}-gold-all.jsonl"
        first = [f"cat {shlex.quote(str(info['gold']))} {shlex.quote(str(gold_path))} > {shlex.quote(gold)}"]
    build = ["newstag-build", *inputs, "--gold", gold, "-o", f"{out}-reviewed"]
    if info.get("labels"):
        build += ["--labels", str(info["labels"])]
    train = ["newstag-train", "--data", f"{out}-reviewed", "-o", "MODEL_DIR", "--config", "configs/train.yaml"]
    return [*first, shlex.join(build), shlex.join(train)]


def _read_cache(path: Path) -> dict | None:
    """The cached signals, or None when absent, unreadable or incomplete (the start computes them again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        vectors = path.with_suffix(".npy")
        data["embeddings"] = np.load(vectors, allow_pickle=False) if data.pop("has_embeddings") else None
    except (OSError, ValueError, KeyError):
        return None
    if data["embeddings"] is not None and len(data["embeddings"]) != len(data["groups"]):
        return None
    return data


def _write_cache(path: Path, data: dict, embeddings: np.ndarray | None) -> None:
    """Best effort: a read-only dataset folder only means the next start computes again. The vectors are written
    first, so a JSON file that says it has them never lacks them."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if embeddings is not None:
            with path.with_suffix(".npy.tmp").open("wb") as f:
                np.save(f, np.asarray(embeddings, dtype=np.float32), allow_pickle=False)
            path.with_suffix(".npy.tmp").replace(path.with_suffix(".npy"))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**data, "has_embeddings": embeddings is not None}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
