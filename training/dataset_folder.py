"""The dataset folder, owned here: what ``newstag-build`` writes and ``newstag-train``/``newstag-eval`` read.

``DATASET_DIR/`` holds the saved ``DatasetDict`` (train/validation/test), ``articles.jsonl`` (every example,
all columns), ``heldout.jsonl`` (the test articles, text only), ``schema.json``, ``boilerplate.json`` (the
sentences stripped as cross-document boilerplate), ``fingerprint.json``, ``report.md``, ``build_metrics.json``
and ``label_distribution.png``; ``cache/`` holds what readers computed from it (``newstag-review``'s queue
signals). Nothing else opens these files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from inference.errors import NewstagError
from inference.pages import is_furniture
from inference.schema import Schema, schema_from_dict

SPLITS = ("train", "validation", "test")
PLOT_FILE = "label_distribution.png"


def work_dir(out: Path) -> Path:
    """Scratch space inside the folder while it is built; :func:`finish` removes it."""
    return out / ".work"


def create(out: Path, overwrite: bool) -> Path:
    """Make an empty dataset folder (replacing an old dataset only with ``overwrite``) and its work folder."""
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise NewstagError(f"output folder {out} is not empty; pass --overwrite to replace it or choose another -o")
        if not (out / "dataset_dict.json").is_file() and not (out / "report.md").is_file():
            raise NewstagError(f"{out} does not look like a newstag dataset; refusing to overwrite it, choose another -o")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    work_dir(out).mkdir()
    return out


def write_splits(out: Path, labeled_file: Path, split_of: dict[str, str], members: dict[str, list[str]],
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
    cache = work_dir(out) / "cache"

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


def write_meta(out: Path, schema: Schema, boilerplate: list[str], info: dict) -> None:
    """The schema, the stripped boilerplate sentences and the fingerprint record (inputs, options, counts)."""
    (out / "schema.json").write_text(json.dumps(schema.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "boilerplate.json").write_text(json.dumps(sorted(boilerplate), indent=0, ensure_ascii=False),
                                          encoding="utf-8")
    (out / "fingerprint.json").write_text(json.dumps(info, indent=2), encoding="utf-8")


def write_report(out: Path, markdown: str, metrics: dict) -> None:
    (out / "report.md").write_text(markdown, encoding="utf-8")
    (out / "build_metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")


def finish(out: Path) -> None:
    shutil.rmtree(work_dir(out))


def discard(out: Path) -> None:
    """Remove a folder whose build failed before anything was written."""
    shutil.rmtree(out)


def read_articles(path: str | Path) -> tuple[list[dict], Schema, dict]:
    """Every example of a dataset folder (``articles.jsonl``: all columns, every split), its schema (with the
    labeling rules) and its fingerprint record, without loading the ``DatasetDict``."""
    p = Path(path)
    if not (p / "articles.jsonl").is_file() or not (p / "schema.json").is_file():
        raise NewstagError(f"{p} is not a newstag dataset folder (no articles.jsonl and schema.json); "
                           "pass the folder written by newstag-build -o")
    with (p / "articles.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    schema = schema_from_dict(json.loads((p / "schema.json").read_text(encoding="utf-8")), source=str(p))
    info = json.loads((p / "fingerprint.json").read_text()) if (p / "fingerprint.json").is_file() else {}
    return rows, schema, info


def cache_dir(path: str | Path) -> Path:
    """Where programs that read the folder may keep what they computed from it (a rebuild removes it with the
    folder)."""
    return Path(path) / "cache"


def load(path: str | Path):
    """The DatasetDict, its schema and its fingerprint, with one clear error when the folder is not one."""
    from datasets import load_from_disk

    p = Path(path)
    if not (p / "dataset_dict.json").is_file() or not (p / "schema.json").is_file():
        raise NewstagError(f"{p} is not a newstag dataset folder (no dataset_dict.json and schema.json); "
                           "pass the folder written by newstag-build -o")
    ds = load_from_disk(str(p))
    schema = schema_from_dict(json.loads((p / "schema.json").read_text(encoding="utf-8")), source=str(p))
    info = json.loads((p / "fingerprint.json").read_text()) if (p / "fingerprint.json").is_file() else {}
    boiler = json.loads((p / "boilerplate.json").read_text()) if (p / "boilerplate.json").is_file() else []
    return ds, schema, info.get("fingerprint", "unknown"), boiler
