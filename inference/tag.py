"""Tag articles in bulk: ``newstag-tag INPUT... --model MODEL_DIR -o OUT.jsonl|OUT.csv``.

Example:
    newstag-tag data/sample/pages --model runs/demo/model -o runs/demo/tags.jsonl

Reads the builder's input formats as a stream (raw pages are cleaned and split like the builder
does), tags in batches, and appends each result to the output as soon as it is ready, flushed.
Re-running the same command after a crash or Ctrl-C skips what is done and finishes the rest. An
output written by a different model is never mixed in: the command stops and says so. A record
that cannot be read or tagged goes to ``OUT.errors.jsonl`` with its reason and the run goes on.

``--engine ray [--address ADDR] [--workers N]`` does the same on Ray Data, with the same output (see
``inference/ray_tag.py``).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
import time
from itertools import islice
from pathlib import Path

from . import model_folder
from .boilerplate import learn_from_stream, strip_repeated
from .cli import HelpFormatter, description, progress
from .errors import NewstagError, cli_errors
from .readers import Record, Skip, parse_columns, read_inputs

CSV_FIELDS = ["id", "title", "path", "topics", "topic_scores", "stance", "stance_score", "evidence", "windows",
              "model", "model_id"]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="newstag-tag", description=description(__doc__), formatter_class=HelpFormatter,
                                epilog="Example: newstag-tag pages/ --model runs/demo/model -o tags.jsonl")
    p.add_argument("inputs", nargs="+", help="files, directories or globs: .txt/.html pages, .jsonl, .csv, a saved dataset")
    p.add_argument("--model", required=True, metavar="MODEL_DIR", help="model folder written by newstag-train")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file, .jsonl or .csv")
    p.add_argument("--column", action="append", default=[], metavar="FIELD=NAME", help="column mapping, e.g. text=body")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="windows per forward pass")
    p.add_argument("--chunk", type=int, default=256, metavar="N", help="articles tagged and written per step")
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: GPU when available)")
    p.add_argument("--int8", action="store_true", help="CPU: dynamic int8 quantization (faster, scores differ slightly)")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 weights on CPU (fast where the CPU has avx512_bf16/AMX; scores differ in the 3rd decimal); "
                        "on GPU half precision is the default")
    p.add_argument("--boilerplate-sample", type=int, default=2000, metavar="N",
                   help="learn the inputs' own boilerplate (a paragraph pasted under many stories) from their first "
                        "N articles and strip it, besides the model's; 0: off")
    p.add_argument("--threshold", action="append", default=[], metavar="TOPIC=P", help="override a topic's threshold")
    p.add_argument("--no-evidence", action="store_true", help="skip the evidence sentences (a little faster)")
    p.add_argument("--limit", type=int, metavar="N", help="tag at most this many articles")
    p.add_argument("--print", type=int, default=0, metavar="N", dest="show", help="also print the first N results")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this process; ray: Ray Data with a pool of tagger actors (the ray extra), same output")
    p.add_argument("--address", help="--engine ray: the cluster to join (ray start --head prints it); "
                                     "default: start a local instance")
    p.add_argument("--workers", type=int, default=2, help="--engine ray: tagger actors, one CPU each (default 2)")
    return p.parse_args(argv)


def _existing_rows(f, csv_file: bool):
    if csv_file:
        yield from csv.DictReader(f)
        return
    for line in f:
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a crash: that article is tagged again


def _done_ids(out: Path, model_id: str) -> set[str]:
    """Ids already in the output (read as a stream); refuses an output written by another model."""
    if not out.is_file() or out.stat().st_size == 0:
        return set()
    done: set[str] = set()
    with out.open(encoding="utf-8", newline="") as f:
        for row in _existing_rows(f, out.suffix.lower() == ".csv"):
            if row.get("model_id") != model_id:
                raise NewstagError(f"{out} holds results of another model ({row.get('model_id')}, this is "
                                   f"{model_id}); write to a new -o file or delete the old one")
            done.add(row["id"])
    return done


def _trim_partial_line(out: Path) -> None:
    """A crash can leave half a line at the end; cut it so appending starts on a fresh line."""
    if out.is_file() and out.stat().st_size:
        data = out.read_bytes()
        if not data.endswith(b"\n"):
            out.write_bytes(data[: data.rfind(b"\n") + 1])


def _seen_lines(path: Path) -> set[str]:
    """The lines already in the errors file, so a re-run does not write the same bad record twice."""
    if not path.is_file():
        return set()
    with path.open(encoding="utf-8") as f:
        return {line.rstrip("\n") for line in f if line.strip()}


def _tag_batch(tagger, batch: list[Record], thresholds, evidence: bool, batch_size: int):
    """Tag a batch; when it fails, tag its records one by one so one bad record costs only itself.

    Returns:
        (records tagged, their results, [(record, reason)] for the records that failed).
    """
    kwargs = {"thresholds": thresholds, "evidence": evidence, "batch_size": batch_size}
    try:
        return batch, tagger.predict([(r.title, r.text) for r in batch], **kwargs), []
    except Exception:  # noqa: BLE001 - find the record that fails, below
        pass
    ok, results, failed = [], [], []
    for rec in batch:
        try:
            results.append(tagger.predict([(rec.title, rec.text)], **kwargs)[0])
            ok.append(rec)
        except Exception as err:  # noqa: BLE001 - reported in the errors file, the run goes on
            failed.append((rec, f"tagging failed: {type(err).__name__}: {str(err)[:200]}"))
    return ok, results, failed


def _row(rec: Record, res, model_id: str) -> dict:
    return {"id": rec.id, "title": rec.title, "path": rec.path, "topics": res.topic_names,
            "topic_scores": res.topic_scores, "stance": res.stance, "stance_score": res.stance_score,
            "stance_probs": res.stance_probs, "evidence": {t.name: t.evidence for t in res.topics},
            "windows": res.windows, "model": f"{res.model}@{res.version}", "model_id": model_id}


def _thresholds(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            out[name] = float(value)
        except ValueError:
            raise NewstagError(f"--threshold {pair!r} is not TOPIC=P with P a number") from None
    return out


class Output:
    """The results file (JSONL or CSV, appended and flushed per chunk) and its errors file beside it."""

    def __init__(self, path: Path, model_id: str):
        self.path, self.model_id = path, model_id
        self.is_csv = path.suffix.lower() == ".csv"
        self.errors_path = path.with_name(path.name + ".errors.jsonl") if self.is_csv else path.with_suffix(".errors.jsonl")
        _trim_partial_line(path)
        self.done = _done_ids(path, model_id)
        self.counts = {"tagged": 0, "skipped_done": 0, "errors": 0}
        self._seen_errors = _seen_lines(self.errors_path)

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.is_file() or self.path.stat().st_size == 0
        self._f = self.path.open("a", encoding="utf-8", newline="")
        self._errf = self.errors_path.open("a", encoding="utf-8")
        self._writer = csv.DictWriter(self._f, CSV_FIELDS, extrasaction="ignore") if self.is_csv else None
        if self._writer and new_file:
            self._writer.writeheader()
        return self

    def __exit__(self, *exc):
        self._f.close()
        self._errf.close()

    def error(self, entry: dict) -> None:
        """Count a bad record; write it unless an earlier run already did."""
        self.counts["errors"] += 1
        line = json.dumps(entry, ensure_ascii=False)
        if line not in self._seen_errors:
            self._seen_errors.add(line)
            self._errf.write(line + "\n")

    def write(self, rec: Record, res) -> None:
        self.write_row(_row(rec, res, self.model_id))

    def write_row(self, row: dict) -> None:
        """Append one result row (``_row``'s dict) and count its id as done."""
        if self._writer:
            self._writer.writerow({**row, "topics": ";".join(row["topics"]),
                                   "topic_scores": json.dumps(row["topic_scores"]),
                                   "evidence": json.dumps(row["evidence"], ensure_ascii=False)})
        else:
            self._f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.done.add(row["id"])

    def flush(self) -> None:
        self._f.flush()
        self._errf.flush()


def _to_tag(items: list, out: Output, room: int | None) -> list[Record]:
    """The records of a chunk still to tag: bad records reported, done ones counted, at most ``room``."""
    batch: list[Record] = []
    for item in items:
        if isinstance(item, Skip):
            out.error({"path": item.path, "line": item.line, "reason": item.reason})
        elif item.id in out.done:
            out.counts["skipped_done"] += 1
        else:
            batch.append(item)
    return batch if room is None else batch[:room]


def _shown(row: dict) -> str:
    tags = ", ".join(f"{t} {row['topic_scores'][t]:.2f}" for t in row["topics"]) or "(no topic)"
    return f"- {row['title'][:80]}\n    topics: {tags}\n    stance: {row['stance']} {row['stance_score']:.2f}"


@cli_errors("newstag-tag")
def main(argv=None) -> int:
    args = parse_args(argv)
    from .tagger import Tagger

    thresholds = _thresholds(args.threshold)
    columns = parse_columns(args.column)
    if args.int8 and args.bf16:
        raise NewstagError("--int8 and --bf16 exclude each other; pick one")
    if Path(args.output).suffix.lower() not in (".jsonl", ".csv"):
        raise NewstagError(f"output {args.output} must end in .jsonl or .csv")
    if args.engine == "ray" and args.limit is not None:
        raise NewstagError("--limit is for trial runs of --engine local; with --engine ray pass fewer inputs")
    if args.workers < 1 or args.chunk < 1:
        raise NewstagError("--workers and --chunk must be at least 1")
    options = {"device": "cpu" if args.int8 else args.device, "quantize": "int8" if args.int8 else None,
               "half": True if args.bf16 else None}
    if args.engine == "ray":  # the actors load the model; here only its labels are needed
        known = model_folder.read_manifest(args.model)["topics"]
        unknown = [t for t in thresholds if t not in known]
        if unknown:
            raise NewstagError(f"threshold for unknown topic '{unknown[0]}'; topics are {', '.join(known)}")
    else:
        tagger = Tagger.from_pretrained(args.model, **options)
        tagger.resolve_thresholds(thresholds)  # unknown topic names fail here, before any work
    out = Output(Path(args.output), model_folder.model_id(args.model))
    started, shown = time.time(), 0
    counter, stream = learn_from_stream(read_inputs(args.inputs, columns), args.boilerplate_sample,
                                        lambda item: (item.title, item.text) if isinstance(item, Record) else None)

    def show(row: dict) -> None:
        nonlocal shown
        if shown < args.show:
            shown += 1
            bar.write(_shown(row), file=sys.stdout)  # above the bar, not into it

    if args.engine == "ray":
        from . import ray_tag

        stream = None  # the driver read only the boilerplate sample; Ray Data reads the inputs
        with out, progress(desc="tagging", unit=" articles") as bar:
            try:
                ray_tag.tag(args, out, counter, columns, thresholds or None, out.model_id, options, bar, show)
            finally:
                if not args.address:
                    ray_tag.shutdown()
        return _summary(out, started)
    with out, progress(desc="tagging", unit=" articles") as bar:
        while args.limit is None or out.counts["tagged"] < args.limit:
            items = list(islice(stream, args.chunk))
            if not items:
                break
            batch = _to_tag(items, out, None if args.limit is None else args.limit - out.counts["tagged"])
            if not batch:
                continue
            if counter is not None:
                batch = [dataclasses.replace(r, text=strip_repeated(r.text, counter)) for r in batch]
            batch, results, failed = _tag_batch(tagger, batch, thresholds or None, not args.no_evidence,
                                                args.batch_size)
            for rec, reason in failed:
                out.error({"id": rec.id, "path": rec.path, "reason": reason})
            for rec, res in zip(batch, results):
                out.write(rec, res)
                if shown < args.show:
                    show(_row(rec, res, out.model_id))
            out.flush()
            out.counts["tagged"] += len(batch)
            bar.update(len(batch) + len(failed))
    return _summary(out, started)


def _summary(out: Output, started: float) -> int:
    secs = time.time() - started
    rate = out.counts["tagged"] / secs if secs > 0 else 0.0
    print(f"newstag-tag: tagged {out.counts['tagged']} articles ({rate:.1f}/s), {out.counts['skipped_done']} already "
          f"done, {out.counts['errors']} bad records (see {out.errors_path}); wrote {out.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
