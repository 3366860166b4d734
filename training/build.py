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
import sys
import time
from pathlib import Path

from inference.cli import HelpFormatter, description
from inference.errors import NewstagError, cli_errors
from inference.readers import expand_inputs, parse_columns
from inference.rules import labeling_functions
from inference.schema import load_schema

from . import dataset_folder
from .builder.gold import read_gold
from .builder.passes import Build, choose_splits, fingerprint, keep_representatives, label_pass, read_pass
from .builder.report import write_build_report
from .dataset_folder import SPLITS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="newstag-build", description=description(__doc__), formatter_class=HelpFormatter,
                                epilog="Example: newstag-build data/sample --gold data/sample/labels.jsonl -o runs/ds")
    p.add_argument("inputs", nargs="+", help="files, directories or globs: .txt/.html pages, .jsonl, .csv, a saved dataset")
    p.add_argument("-o", "--output", required=True, metavar="DATASET_DIR", help="dataset folder to write")
    p.add_argument("--labels", default="configs/labels.yaml", metavar="FILE", help="label schema and rules (YAML)")
    p.add_argument("--gold", metavar="FILE", help="hand labels (JSONL with id or title, topics, stance); they override weak labels")
    p.add_argument("--gold-to-test", action="store_true", help="route every gold example to the test split")
    p.add_argument("--column", action="append", default=[], metavar="FIELD=NAME",
                   help="column mapping for JSONL/CSV/datasets, e.g. --column text=body (fields: id title text url source published)")
    p.add_argument("--fractions", default="0.7,0.15,0.15", metavar="TRAIN,VAL,TEST", help="train,validation,test fractions")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the split")
    p.add_argument("--split-by-date", action="store_true", help="oldest articles to train, newest to test")
    p.add_argument("--split-column", metavar="NAME",
                   help="keep a split given in the input (a 'train'/'validation'/'test' field, e.g. ModApte); "
                        "'train' records are still divided into train and validation by --fractions")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="keep every article (duplicates are still clustered and reported), e.g. for a benchmark's fixed test set")
    p.add_argument("--near-duplicate-threshold", type=float, default=0.45, metavar="X",
                   help="Jaccard similarity of word 3-gram sets (MinHash estimate) above which two articles are near duplicates")
    p.add_argument("--boilerplate-min-articles", type=int, default=3, metavar="N",
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


@cli_errors("newstag-build")
def main(argv=None) -> int:
    args = parse_args(argv)
    import datasets

    datasets.disable_progress_bars()  # "Generating ... split", "Saving the dataset": the summary below says what was built
    started = time.time()
    schema = load_schema(args.labels)
    lfs = labeling_functions(schema)
    gold = read_gold(args.gold, schema) if args.gold else None
    columns = parse_columns(args.column)
    fractions = _fractions(args.fractions)
    exclude = [args.gold] if args.gold else []
    files = expand_inputs(args.inputs, exclude)
    out = dataset_folder.create(Path(args.output), args.overwrite)
    work = dataset_folder.work_dir(out)
    build = Build(files=len(files))
    try:
        counter = read_pass(build, args.inputs, columns, exclude, work / "raw.jsonl", args.split_column,
                            args.boilerplate_min_articles, args.near_duplicate_threshold)
    except NewstagError:
        dataset_folder.discard(out)
        raise
    embed = _embedding_rule(schema) if args.embedding_rule or schema.embedding_rule.enabled else None
    meta = label_pass(build, work / "raw.jsonl", work / "labeled.jsonl", counter, schema, lfs, gold, embed,
                      args.near_duplicate_threshold)
    keep_representatives(build, meta, args.keep_duplicates)
    split_of, fractions = choose_splits(build, meta, fractions, args.seed, args.gold_to_test, args.split_column,
                                        args.split_by_date)
    options = _options(args, fractions, columns, embed is not None)
    fp = fingerprint(files, schema.to_dict(), options)
    rows_by_split = dataset_folder.write_splits(out, work / "labeled.jsonl", split_of, build.members, fp)
    info = {"fingerprint": fp, "inputs": [str(f) for f in files], "labels": args.labels, "gold": args.gold,
            "options": {k: v for k, v in options.items() if k != "gold"},
            "counts": {s: len(rows_by_split[s]) for s in SPLITS}, "seconds": round(time.time() - started, 2)}
    dataset_folder.write_meta(out, schema, list(build.boilerplate), info)
    summary = write_build_report(out, schema, lfs, rows_by_split, build, gold, info, plots=not args.no_plots)
    dataset_folder.finish(out)
    print(summary)
    print(f"newstag-build: wrote {out} ({sum(info['counts'].values())} examples: "
          + ", ".join(f"{s} {n}" for s, n in info["counts"].items()) + f") in {info['seconds']:.1f}s; "
          f"see {out / 'report.md'}")
    return 0


def _embedding_rule(schema):
    from .builder.embed_rule import EmbeddingRule

    return EmbeddingRule(schema)


def _options(args, fractions, columns: dict, embedding_rule: bool) -> dict:
    """The options that shape the dataset, for its fingerprint (the gold file's content included)."""
    return {"fractions": fractions, "seed": args.seed, "by_date": args.split_by_date, "columns": columns,
            "near": args.near_duplicate_threshold, "boilerplate": args.boilerplate_min_articles,
            "gold_to_test": args.gold_to_test, "embedding_rule": embedding_rule,
            "split_column": args.split_column, "keep_duplicates": args.keep_duplicates,
            "gold": Path(args.gold).read_text(encoding="utf-8") if args.gold else None}


if __name__ == "__main__":
    sys.exit(main())
