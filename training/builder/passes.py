"""The builder's steps: read every input once (pass 1), strip boilerplate and label (pass 2), keep one
representative per duplicate cluster, and assign splits. ``training.build.main`` composes them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from inference.boilerplate import BoilerplateCounter, strip_boilerplate
from inference.cli import progress
from inference.errors import NewstagError
from inference.readers import Record, Skip, read_inputs
from inference.rules import LabelingFunction, weak_label
from inference.schema import Schema

from .dedup import Deduplicator
from .gold import GoldLabels
from .splits import assign_splits


@dataclass
class Build:
    """What the passes found, for the report: counts, skips, boilerplate, duplicate clusters."""

    files: int
    records: int = 0
    skipped: list[str] = field(default_factory=list)
    redecoded: dict[str, str] = field(default_factory=dict)
    pages: set[str] = field(default_factory=set)
    boilerplate: dict[str, int] = field(default_factory=dict)  # sentence key -> articles it was removed from
    dedup: Deduplicator | None = None
    clusters: dict[str, list[str]] = field(default_factory=dict)  # root -> article ids
    members: dict[str, list[str]] = field(default_factory=dict)  # representative -> its duplicates


def fingerprint(files: list[Path], schema_dict: dict, options: dict) -> str:
    """A hash of the input files' bytes, the schema and the options: a model can name its data with it."""
    h = hashlib.sha256()
    for f in sorted(files):
        paths = sorted(x for x in f.rglob("*") if x.is_file()) if f.is_dir() else [f]
        for x in paths:
            h.update(str(x.name).encode())
            h.update(hashlib.sha256(x.read_bytes()).digest())
    h.update(json.dumps(schema_dict, sort_keys=True).encode())
    h.update(json.dumps(options, sort_keys=True).encode())
    return h.hexdigest()[:16]


def read_pass(build: Build, inputs: list[str], columns: dict, exclude: list, raw_file: Path, split_column: str | None,
              min_articles: int, near_similarity: float) -> BoilerplateCounter:
    """Read every article once into ``raw_file`` and count its sentences across stories for boilerplate.

    Copies and rewrites of one story (near duplicates of the raw text) count once.
    """
    counter = BoilerplateCounter(min_articles)
    raw_dedup = Deduplicator(min_similarity=near_similarity)
    with raw_file.open("w", encoding="utf-8") as raw, progress(desc="reading", unit=" articles") as bar:
        for item in read_inputs(inputs, columns, exclude):
            if isinstance(item, Skip):
                build.skipped.append(str(item))
                continue
            assert isinstance(item, Record)
            build.records += 1
            if item.page_id:
                build.pages.add(item.page_id)
            if item.redecoded:
                build.redecoded[item.path] = item.redecoded
            first = raw_dedup.add(f"{build.records}", item.text)
            counter.add(item.text, group=raw_dedup.root(first) if first else f"{build.records}")
            raw.write(json.dumps({"id": item.id, "title": item.title, "text": item.text, "path": item.path,
                                  "source": item.source, "url": item.url, "published": item.published,
                                  "tags": list(item.tags), "position": item.position,
                                  "given_split": item.extra.get(split_column) if split_column else None},
                                 ensure_ascii=False) + "\n")
            bar.update()
    if build.records == 0:
        raise NewstagError("no article could be read from the inputs (all skipped: "
                           f"{'; '.join(build.skipped[:3])}); check the inputs")
    return counter


def label_pass(build: Build, raw_file: Path, labeled_file: Path, counter: BoilerplateCounter, schema: Schema,
               lfs: list[LabelingFunction], gold: GoldLabels | None, embed, near_similarity: float) -> dict[str, dict]:
    """Strip each article's boilerplate, cluster duplicates, weak-label it (gold overrides) into ``labeled_file``.

    Returns:
        Per article id what the splitting needs: labels, gold or not, length, date, a given split.
    """
    build.dedup = Deduplicator(min_similarity=near_similarity)
    meta: dict[str, dict] = {}
    ids_seen: dict[str, int] = {}
    with raw_file.open(encoding="utf-8") as raw, labeled_file.open("w", encoding="utf-8") as lab:
        for line in progress(raw, total=build.records, desc="labeling", unit=" articles"):
            row = json.loads(line)
            if row["id"] in ids_seen:  # two records share an id: keep both, make the id unique
                ids_seen[row["id"]] += 1
                row["id"] = f"{row['id']}~{ids_seen[row['id']]}"
            else:
                ids_seen[row["id"]] = 0
            keys = counter.boilerplate_in(row["text"])
            text, removed = strip_boilerplate(row["text"], keys)
            for k in keys:
                build.boilerplate[k] = build.boilerplate.get(k, 0) + 1
            if not text.strip():
                build.skipped.append(f"{row['path']}: '{row['title'][:60]}': nothing left after boilerplate removal")
                continue
            build.dedup.add(row["id"], row["title"] + "\n" + text)
            row.update(_labels(schema, lfs, gold, embed, row, text), text=text, boilerplate_removed=removed)
            lab.write(json.dumps(row, ensure_ascii=False) + "\n")
            meta[row["id"]] = {"labels": row["topics"] + ["stance:" + row["stance"]], "gold": row["gold"],
                               "len": len(text), "date": row.get("published"), "given_split": row.get("given_split")}
    return meta


def _labels(schema: Schema, lfs: list[LabelingFunction], gold: GoldLabels | None, embed, row: dict, text: str) -> dict:
    """The label columns of one article: the weak labels with their votes, and the gold labels that override them."""
    extra = embed.votes(row["title"], text) if embed else None
    weak = weak_label(schema, lfs, row["title"], text, extra)
    if extra:  # provenance: the embedding rule's votes sit beside the rules'
        weak.votes.update({f"embedding:{name}": 1 for name in extra})
    g = gold.match(row["id"], row["title"]) if gold else None
    out = {"weak_topics": list(weak.topics), "weak_stance": weak.stance,
           "topic_confidence": [weak.topic_confidence[t] for t in schema.topic_names],
           "stance_confidence": weak.stance_confidence, "votes": json.dumps(weak.votes),
           "gold": g is not None, "label_source": "gold" if g else "weak",
           "topics": list(g.topics) if g else list(weak.topics), "stance": g.stance if g else weak.stance}
    if g:
        out["gold_topics"], out["gold_stance"] = list(g.topics), g.stance
    return out


def keep_representatives(build: Build, meta: dict[str, dict], keep_duplicates: bool) -> None:
    """One representative per duplicate cluster (gold first, then the longest); the rest become its duplicates."""
    for key, root in build.dedup.clusters().items():
        if key in meta:
            build.clusters.setdefault(root, []).append(key)
    for root, keys in build.clusters.items():
        if keep_duplicates:
            build.members.update({k: [] for k in keys})
            continue
        rep = max(keys, key=lambda k: (meta[k]["gold"], meta[k]["len"], k == root))
        build.members[rep] = [k for k in keys if k != rep]


def choose_splits(build: Build, meta: dict[str, dict], fractions: tuple[float, float, float], seed: int,
                  gold_to_test: bool, split_column: str | None, by_date: bool) -> tuple[dict[str, str], tuple]:
    """Each representative's split; returns it with the fractions used (a given split keeps its test set)."""
    members = build.members
    examples = [{"id": rep, "labels": meta[rep]["labels"], "size": 1, "date": meta[rep]["date"]} for rep in members]
    fixed = {rep: "test" for rep in members if gold_to_test and meta[rep]["gold"]}
    if split_column:
        given = {rep: str(meta[rep]["given_split"]).lower() for rep in members}
        bad = sorted({v for v in given.values() if v not in ("train", "validation", "test")})
        if bad:
            raise NewstagError(f"--split-column {split_column}: value {bad[0]!r} is not train, validation or test "
                               "(records without the field count as None); fix the input or drop the flag")
        fixed.update({rep: v for rep, v in given.items() if v != "train"})
        fractions = (fractions[0] / (fractions[0] + fractions[1]), fractions[1] / (fractions[0] + fractions[1]), 0.0)
    return assign_splits(examples, fractions, seed, fixed, by_date), fractions
