"""Build a labeled dataset from raw pages: ``newstag-build INPUT... -o DATASET_DIR``.

Example:
    newstag-build data/sample --gold data/sample/labels.jsonl -o runs/demo/dataset

Pages are read (text, HTML, JSONL, CSV or a saved dataset), split into articles, cleaned of site
furniture and of cross-document boilerplate, grouped into duplicate clusters (one representative
kept), weakly labeled by the schema's rules (hand labels take precedence), split into
train/validation/test by cluster, and saved as a ``datasets.DatasetDict`` with ``articles.jsonl``,
``report.md`` and plots.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from inference.boilerplate import BoilerplateCounter
from inference.errors import NewstagError, cli_errors
from inference.pages import is_furniture, strip_boilerplate
from inference.readers import Record, Skip, expand_inputs, parse_columns, read_inputs
from inference.schema import load_schema

from .dedup import Deduplicator
from .gold import read_gold
from .report import write_build_report
from .rules import labeling_functions, weak_label
from .splits import SPLITS, assign_splits


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="newstag-build", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example: newstag-build data/sample --gold data/sample/labels.jsonl -o runs/ds")
    p.add_argument("inputs", nargs="+", help="files, directories or globs: .txt/.html pages, .jsonl, .csv, a saved dataset")
    p.add_argument("-o", "--output", required=True, help="dataset folder to write")
    p.add_argument("--labels", default="configs/labels.yaml", help="label schema and rules (YAML)")
    p.add_argument("--gold", help="hand labels (JSONL with id or title, topics, stance); they override weak labels")
    p.add_argument("--gold-to-test", action="store_true", help="route every gold example to the test split")
    p.add_argument("--column", action="append", default=[], metavar="FIELD=NAME",
                   help="column mapping for JSONL/CSV/datasets, e.g. --column text=body (fields: id title text url source published)")
    p.add_argument("--fractions", default="0.7,0.15,0.15", help="train,validation,test fractions")
    p.add_argument("--seed", type=int, default=0, help="seed of the split")
    p.add_argument("--split-by-date", action="store_true", help="oldest articles to train, newest to test")
    p.add_argument("--split-column", metavar="NAME",
                   help="keep a split given in the input (a 'train'/'validation'/'test' field, e.g. ModApte); "
                        "'train' records are still divided into train and validation by --fractions")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="keep every article (duplicates are still clustered and reported), e.g. for a benchmark's fixed test set")
    p.add_argument("--near-duplicate-threshold", type=float, default=0.45,
                   help="Jaccard similarity of word 3-gram sets (MinHash estimate) above which two articles are near duplicates")
    p.add_argument("--boilerplate-min-articles", type=int, default=3,
                   help="a pasted paragraph counts as boilerplate once it appears in this many articles")
    p.add_argument("--embedding-rule", action="store_true", help="also run the embedding rule (zero-shot vote)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing dataset folder")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    return p.parse_args(argv)



def _fractions(raw: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(x) for x in raw.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or any(x < 0 for x in parts) or abs(sum(parts) - 1) > 1e-6:
        raise NewstagError(f"--fractions {raw!r} must be three non-negative numbers summing to 1, e.g. 0.7,0.15,0.15")
    return parts


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


def _prepare_output(out: Path, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise NewstagError(f"output folder {out} is not empty; pass --overwrite to replace it or choose another -o")
        if not (out / "dataset_dict.json").is_file() and not (out / "report.md").is_file():
            raise NewstagError(f"{out} does not look like a newstag dataset; refusing to overwrite it, choose another -o")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


@cli_errors("newstag-build")
def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.time()
    schema = load_schema(args.labels)
    lfs = labeling_functions(schema)
    gold = read_gold(args.gold, schema) if args.gold else None
    columns = parse_columns(args.column)
    fractions = _fractions(args.fractions)
    exclude = [args.gold] if args.gold else []
    files = expand_inputs(args.inputs, exclude)
    out = Path(args.output)
    _prepare_output(out, args.overwrite)
    work = out / ".work"
    work.mkdir()
    stats = {"files": len(files), "records": 0, "skipped": [], "redecoded": {}, "pages": set()}

    # Pass 1: read everything once, to disk; count sentences across articles for boilerplate.
    counter = BoilerplateCounter(args.boilerplate_min_articles)
    raw_dedup = Deduplicator(threshold=args.near_duplicate_threshold)
    raw_file = work / "raw.jsonl"
    with raw_file.open("w", encoding="utf-8") as raw, tqdm(desc="reading", unit=" articles", file=sys.stderr) as bar:
        for item in read_inputs(args.inputs, columns, exclude):
            if isinstance(item, Skip):
                stats["skipped"].append(str(item))
                continue
            assert isinstance(item, Record)
            stats["records"] += 1
            if item.page_id:
                stats["pages"].add(item.page_id)
            if item.redecoded:
                stats["redecoded"][item.path] = item.redecoded
            # copies and rewrites of one story must not make its sentences look like boilerplate
            first = raw_dedup.add(f"{stats['records']}", item.text)
            counter.add(item.text, group=raw_dedup.root(first) if first else f"{stats['records']}")
            raw.write(json.dumps({"id": item.id, "title": item.title, "text": item.text, "path": item.path,
                                  "source": item.source, "url": item.url, "published": item.published,
                                  "tags": list(item.tags), "position": item.position,
                                  "given_split": item.extra.get(args.split_column) if args.split_column else None},
                                 ensure_ascii=False) + "\n")
            bar.update()
    if stats["records"] == 0:
        shutil.rmtree(out)
        raise NewstagError("no article could be read from the inputs (all skipped: "
                           f"{'; '.join(stats['skipped'][:3])}); check the inputs")

    del raw_dedup
    # Pass 2: strip boilerplate, group duplicates, label.
    embed = None
    if args.embedding_rule or schema.embedding_rule.enabled:
        from .embed_rule import EmbeddingRule

        embed = EmbeddingRule(schema)
    dedup = Deduplicator(threshold=args.near_duplicate_threshold)
    boiler_keys: dict[str, int] = {}
    meta: dict[str, dict] = {}
    ids_seen: dict[str, int] = {}
    labeled_file = work / "labeled.jsonl"
    with raw_file.open(encoding="utf-8") as raw, labeled_file.open("w", encoding="utf-8") as lab:
        for line in tqdm(raw, total=stats["records"], desc="labeling", unit=" articles", file=sys.stderr):
            row = json.loads(line)
            if row["id"] in ids_seen:  # two records share an id: keep both, make the id unique
                ids_seen[row["id"]] += 1
                row["id"] = f"{row['id']}~{ids_seen[row['id']]}"
            else:
                ids_seen[row["id"]] = 0
            keys = counter.boilerplate_in(row["text"])
            text, removed = strip_boilerplate(row["text"], keys)
            for k in keys:
                boiler_keys[k] = boiler_keys.get(k, 0) + 1
            if not text.strip():
                stats["skipped"].append(f"{row['path']}: '{row['title'][:60]}': nothing left after boilerplate removal")
                continue
            dedup.add(row["id"], row["title"] + "\n" + text)
            extra = embed.votes(row["title"], text) if embed else None
            weak = weak_label(schema, lfs, row["title"], text, extra)
            if extra:  # provenance: the embedding rule's votes sit beside the rules'
                weak.votes.update({f"embedding:{name}": 1 for name in extra})
            g = gold.match(row["id"], row["title"]) if gold else None
            row.update(text=text, boilerplate_removed=removed, weak_topics=list(weak.topics),
                       weak_stance=weak.stance, topic_confidence=[weak.topic_confidence[t] for t in schema.topic_names],
                       stance_confidence=weak.stance_confidence, votes=json.dumps(weak.votes),
                       gold=g is not None, label_source="gold" if g else "weak",
                       topics=list(g.topics) if g else list(weak.topics), stance=g.stance if g else weak.stance)
            if g:
                row["gold_topics"], row["gold_stance"] = list(g.topics), g.stance
            lab.write(json.dumps(row, ensure_ascii=False) + "\n")
            meta[row["id"]] = {"labels": row["topics"] + ["stance:" + row["stance"]], "gold": g is not None,
                               "len": len(text), "date": row.get("published"),
                               "given_split": row.get("given_split")}

    # Clusters: keep one representative each (gold first, then the longest), record the rest.
    clusters: dict[str, list[str]] = {}
    for key, root in dedup.clusters().items():
        if key in meta:
            clusters.setdefault(root, []).append(key)
    members = {}
    for root, keys in clusters.items():
        if args.keep_duplicates:
            members.update({k: [] for k in keys})
            continue
        rep = max(keys, key=lambda k: (meta[k]["gold"], meta[k]["len"], k == root))
        members[rep] = [k for k in keys if k != rep]
    examples = [{"id": rep, "labels": meta[rep]["labels"], "size": 1, "date": meta[rep]["date"]} for rep in members]
    fixed = {rep: "test" for rep in members if args.gold_to_test and meta[rep]["gold"]}
    if args.split_column:
        given = {rep: str(meta[rep]["given_split"]).lower() for rep in members}
        bad = sorted({v for v in given.values() if v not in ("train", "validation", "test")})
        if bad:
            raise NewstagError(f"--split-column {args.split_column}: value {bad[0]!r} is not train, validation or test "
                               "(records without the field count as None); fix the input or drop the flag")
        fixed.update({rep: v for rep, v in given.items() if v != "train"})
        fractions = (fractions[0] / (fractions[0] + fractions[1]), fractions[1] / (fractions[0] + fractions[1]), 0.0)
    split_of = assign_splits(examples, fractions, args.seed, fixed, args.split_by_date)

    # Write the DatasetDict, the JSONL export and the held-out test articles.
    options = {"fractions": fractions, "seed": args.seed, "by_date": args.split_by_date, "columns": columns,
               "near": args.near_duplicate_threshold, "boilerplate": args.boilerplate_min_articles,
               "gold_to_test": args.gold_to_test, "embedding_rule": embed is not None,
               "split_column": args.split_column, "keep_duplicates": args.keep_duplicates,
               "gold": Path(args.gold).read_text(encoding="utf-8") if args.gold else None}
    fp = fingerprint(files, schema.to_dict(), options)
    rows_by_split = _write_outputs(out, labeled_file, split_of, members, fp)
    (out / "schema.json").write_text(json.dumps(schema.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "boilerplate.json").write_text(json.dumps(sorted(boiler_keys), indent=0, ensure_ascii=False),
                                          encoding="utf-8")
    info = {"fingerprint": fp, "inputs": [str(f) for f in files], "labels": args.labels, "gold": args.gold,
            "options": {k: v for k, v in options.items() if k != "gold"},
            "counts": {s: len(rows_by_split[s]) for s in SPLITS}, "seconds": round(time.time() - started, 2)}
    (out / "fingerprint.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    stats["pages"] = len(stats["pages"])
    summary = write_build_report(out, schema, lfs, rows_by_split, stats, boiler_keys, dedup, clusters, members,
                                 gold, info, plots=not args.no_plots)
    shutil.rmtree(work)
    print(summary)
    print(f"newstag-build: wrote {out} ({sum(info['counts'].values())} examples: "
          + ", ".join(f"{s} {n}" for s, n in info["counts"].items()) + f") in {info['seconds']:.1f}s; "
          f"see {out / 'report.md'}")
    return 0


FIELDS = ("id", "title", "text", "topics", "stance", "split", "source", "url", "published", "path", "tags",
          "label_source", "gold", "weak_topics", "weak_stance", "topic_confidence", "stance_confidence", "votes",
          "cluster", "duplicates", "boilerplate_removed")


def _write_outputs(out: Path, labeled_file: Path, split_of: dict[str, str], members: dict[str, list[str]],
                   fp: str) -> dict[str, list[dict]]:
    """Stream the labeled rows into per-split JSONL files, then into a DatasetDict and ``articles.jsonl``."""
    from datasets import Dataset, DatasetDict, Features, Sequence, Value

    features = Features({
        "id": Value("string"), "title": Value("string"), "text": Value("string"),
        "topics": Sequence(Value("string")), "stance": Value("string"), "split": Value("string"),
        "source": Value("string"), "url": Value("string"), "published": Value("string"), "path": Value("string"),
        "tags": Sequence(Value("string")), "label_source": Value("string"), "gold": Value("bool"),
        "weak_topics": Sequence(Value("string")), "weak_stance": Value("string"),
        "topic_confidence": Sequence(Value("float32")), "stance_confidence": Value("float32"),
        "votes": Value("string"), "cluster": Value("string"), "duplicates": Sequence(Value("string")),
        "boilerplate_removed": Value("int32"), "gold_topics": Sequence(Value("string")),
        "gold_stance": Value("string"),
    })
    rows_by_split: dict[str, list[dict]] = {s: [] for s in SPLITS}
    with labeled_file.open(encoding="utf-8") as lab, (out / "articles.jsonl").open("w", encoding="utf-8") as export:
        for line in lab:
            row = json.loads(line)
            if row["id"] not in members:
                continue
            row["split"] = split_of[row["id"]]
            row["cluster"] = row["id"]
            row["duplicates"] = members[row["id"]]
            row.setdefault("gold_topics", [])
            row.setdefault("gold_stance", None)
            full = {k: row.get(k) for k in features}
            export.write(json.dumps(full, ensure_ascii=False) + "\n")
            # what the report needs, without the text (memory stays small on big corpora)
            small = {k: full[k] for k in ("id", "title", "topics", "stance", "weak_topics", "weak_stance", "gold",
                                          "gold_topics", "gold_stance", "votes", "source")}
            small["furniture"] = [ln.strip() for ln in full["text"].split("\n") if is_furniture(ln)]
            rows_by_split[row["split"]].append(small)
    cache = out / ".work" / "cache"

    def gen(split):
        with (out / "articles.jsonl").open(encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                if row["split"] == split:
                    yield row

    def split_dataset(s):
        if not rows_by_split[s]:  # from_generator refuses to build an empty split
            return Dataset.from_dict({k: [] for k in features}, features=features)
        return Dataset.from_generator(gen, gen_kwargs={"split": s}, features=features, cache_dir=str(cache),
                                      fingerprint=f"{fp}-{s}")

    dd = DatasetDict({s: split_dataset(s) for s in SPLITS})
    dd.save_to_disk(str(out))
    with (out / "heldout.jsonl").open("w", encoding="utf-8") as f:
        for row in gen("test"):
            f.write(json.dumps({"id": row["id"], "title": row["title"], "text": row["text"]}, ensure_ascii=False) + "\n")
    return rows_by_split


if __name__ == "__main__":
    sys.exit(main())
