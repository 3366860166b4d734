"""``newstag-tag ... --engine ray``: the same tagging on Ray Data, over the cores of one machine or a cluster.

Example:
    newstag-tag pages/ feed.jsonl --model runs/demo/model -o tags.jsonl --engine ray --workers 2
    ray start --head                                   # a cluster: on the head node
    ray start --address HEAD:6379                      # on each other node
    newstag-tag ... --engine ray --address HEAD:6379 --workers 16

Ray Data reads the input files in parallel (one read task per file, with the readers ``newstag-tag`` uses),
cuts the stream into the same chunks of ``--chunk`` items as the local engine (a streaming repartition, order
kept), and tags each chunk with ``map_batches`` on a pool of ``Tagger`` actors. The driver writes the results
in input order through the same output as the local engine, so the records, the errors file and resuming (ids
already written are skipped) are the same; the driver also learns the inputs' boilerplate from their first
articles as the local engine does. Every node needs newstag installed and the input files at the same path.
Needs the ``ray`` extra: ``pip install 'newstag[ray]'``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from .errors import NewstagError
from .readers import Record, Skip, read_inputs

# what one row of the dataset holds; a fixed set of typed columns (never None) keeps every block's schema the same
_EMPTY = {"kind": "", "id": "", "title": "", "text": "", "path": "", "line": 0, "reason": ""}
LOCAL_OBJECT_STORE = 256 * 1024 * 1024  # bytes; the local instance stays small beside other work


def _ray():
    try:
        import ray
    except ImportError:
        raise NewstagError("--engine ray needs the ray extra; pip install 'newstag[ray]'") from None
    return ray


def read_file(row: dict, columns: dict[str, str]):
    """One input file's items as rows (a Ray Data ``flat_map``): records and skipped records alike, in order."""
    for item in read_inputs([row["path"]], columns):
        if isinstance(item, Skip):
            yield {**_EMPTY, "kind": "skip", "path": item.path, "line": item.line or 0, "reason": item.reason}
        else:
            yield {**_EMPTY, "kind": "record", "id": item.id, "title": item.title, "text": item.text, "path": item.path}


class TagActor:
    """A ``Tagger`` in a Ray actor, tagging one chunk per call as the local engine's loop does."""

    def __init__(self, model: str, model_id: str, options: dict, thresholds: dict | None, evidence: bool,
                 batch_size: int, counter=None, done=None, threads: int = 1):
        import torch

        from .tagger import Tagger

        torch.set_num_threads(max(1, threads))
        self.counter, self.done = counter, done or set()
        self.tagger = Tagger.from_pretrained(model, **options)
        self.model_id, self.thresholds, self.evidence, self.batch_size = model_id, thresholds, evidence, batch_size

    def __call__(self, batch: dict) -> dict:
        from .boilerplate import strip_repeated
        from .tag import _row, _tag_batch

        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        todo = [Record(id=str(r["id"]), title=str(r["title"]), text=str(r["text"]), path=str(r["path"]))
                for r in rows if r["kind"] == "record" and r["id"] not in self.done]
        if self.counter is not None:
            todo = [Record(id=r.id, title=r.title, text=strip_repeated(r.text, self.counter), path=r.path) for r in todo]
        ok, results, failed = _tag_batch(self.tagger, todo, self.thresholds, self.evidence, self.batch_size)
        tagged = {rec.id: json.dumps(_row(rec, res, self.model_id), ensure_ascii=False) for rec, res in zip(ok, results)}
        reasons = {rec.id: reason for rec, reason in failed}
        out = {"kind": [], "id": [], "path": [], "line": [], "reason": [], "row": [], "pos": [], "size": []}
        for pos, r in enumerate(rows):
            kind, row, reason = r["kind"], "", str(r["reason"])
            if kind == "record":
                if r["id"] in tagged:
                    kind, row = "tagged", tagged[r["id"]]
                elif r["id"] in reasons:
                    kind, reason = "failed", reasons[r["id"]]
                else:
                    kind = "done"
            for key, value in (("kind", kind), ("id", str(r["id"])), ("path", str(r["path"])), ("line", int(r["line"])),
                               ("reason", reason), ("row", row), ("pos", pos), ("size", len(rows))):
                out[key].append(value)
        return out


def connect(address: str | None, workers: int, quiet: bool = True):
    """Join the cluster at ``address``, or start a local instance with one CPU per worker and one for reading."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    logging.getLogger("ray").setLevel(logging.WARNING if quiet else logging.INFO)
    env = {"TOKENIZERS_PARALLELISM": "false",
           **{k: os.environ[k] for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE") if k in os.environ}}
    if address:  # the cluster's nodes have newstag installed
        ray.init(address=address, runtime_env={"env_vars": env}, logging_level=logging.WARNING,
                 log_to_driver=not quiet)
    else:
        # local workers import newstag from where this process does (a checkout that is not installed works too)
        here = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        ray.init(num_cpus=workers + 1, object_store_memory=LOCAL_OBJECT_STORE, include_dashboard=False,
                 runtime_env={"env_vars": env}, logging_level=logging.WARNING, log_to_driver=not quiet)
    return ray


def tag(args, out, counter, columns: dict[str, str], thresholds: dict | None, model_id: str, options: dict, bar,
        show) -> None:
    """Tag ``args.inputs`` on Ray into ``out`` (the local engine's ``Output``), counting as the local loop does."""
    from .readers import expand_inputs

    ray = connect(args.address, args.workers)
    from ray.data import ActorPoolStrategy, DataContext

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ctx = DataContext.get_current()
    ctx.execution_options.preserve_order = True  # results come back in input order
    ctx.enable_progress_bars = False
    files = [str(f) for f in expand_inputs(args.inputs)]
    ds = ray.data.from_items([{"path": f} for f in files], override_num_blocks=max(1, len(files)))
    ds = ds.flat_map(read_file, fn_kwargs={"columns": columns})
    ds = ds.repartition(target_num_rows_per_block=args.chunk, strict=True)  # the local engine's chunks
    ds = ds.map_batches(
        TagActor, batch_size=None, batch_format="numpy", compute=ActorPoolStrategy(size=args.workers), num_cpus=1,
        fn_constructor_kwargs={"model": str(Path(args.model).resolve()), "model_id": model_id, "options": options,
                               "thresholds": thresholds, "evidence": not args.no_evidence,
                               "batch_size": args.batch_size, "counter": counter, "done": set(out.done),
                               "threads": 1})
    index, short, misaligned = 0, False, False
    try:
        for r in ds.iter_rows():
            if r["pos"] == 0:  # a chunk starts where the local engine's does; only the last may be short
                misaligned |= bool(index % args.chunk) or short
                short = r["size"] != args.chunk
            index += 1
            kind = r["kind"]
            if kind == "skip":
                out.error({"path": r["path"], "line": int(r["line"]) or None, "reason": r["reason"]})
            elif kind == "done":
                out.counts["skipped_done"] += 1
            elif kind == "failed":
                out.error({"id": r["id"], "path": r["path"], "reason": r["reason"]})
                bar.update(1)
            else:
                row = json.loads(r["row"])
                out.write_row(row)
                out.counts["tagged"] += 1
                show(row)
                bar.update(1)
            if r["pos"] == r["size"] - 1:
                out.flush()  # one chunk: written and flushed, as the local engine does
    except Exception as err:
        cause = getattr(err, "cause", None)
        if isinstance(cause, NewstagError):
            raise NewstagError(str(cause)) from None
        raise
    finally:
        out.flush()
    if misaligned:
        print("newstag-tag: note: Ray batched across the chunk boundaries of the local engine; scores may differ "
              "from --engine local in the last digit", file=sys.stderr)


def shutdown() -> None:
    """Stop the local instance this process started (a joined cluster keeps running)."""
    ray = _ray()
    if ray.is_initialized():
        ray.shutdown()
