"""Export a model folder for onnxruntime: ``newstag-export MODEL_DIR -o OUT_DIR --onnx [--int8]``.

Example:
    newstag-export runs/demo/model -o runs/demo/model-onnx --onnx --sample runs/demo/dataset/heldout.jsonl

Writes the encoder and both heads as one ONNX graph (``model.onnx``, batch and sequence axes dynamic, token
states as a second output for the evidence sentences), runs it beside the PyTorch model on a sample of articles
and saves only when the two agree: identical topic sets and stance on every article of the sample, and every
calibrated score within ``--tolerance``. ``OUT_DIR`` is the model folder plus ``model.onnx``; its ``tagger.json``
records the export and the parity figures, so ``newstag-tag`` keeps its outputs apart from the PyTorch model's.
``Tagger.from_pretrained(OUT_DIR)`` (and ``newstag-tag --model OUT_DIR``) then runs onnxruntime.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

import numpy as np

from . import model_folder, onnx_model
from .errors import NewstagError, cli_errors
from .readers import Record, parse_columns, read_inputs
from .scores import probabilities

# Scores are calibrated probabilities; fp32 graphs agree with PyTorch to about 1e-5, int8 ones move more.
TOLERANCE = {"fp32": 1e-3, "int8": 0.05}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="newstag-export", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example: newstag-export runs/demo/model -o runs/demo/model-onnx --onnx")
    p.add_argument("model", help="model folder written by newstag-train")
    p.add_argument("-o", "--output", required=True, help="the exported folder to write (must not exist, or --overwrite)")
    p.add_argument("--onnx", action="store_true", required=True, help="export to ONNX (the one format for now)")
    p.add_argument("--int8", action="store_true", help="quantize the encoder's matrix products to int8 (heads stay fp32)")
    p.add_argument("--sample", nargs="+", metavar="INPUT",
                   help="articles for the parity check, any newstag-tag input (default: texts made of the model's "
                        "label descriptions, one of them long enough for several windows)")
    p.add_argument("--sample-size", type=int, default=200, help="at most this many sample articles (default 200)")
    p.add_argument("--column", action="append", default=[], metavar="FIELD=NAME", help="column mapping, e.g. text=body")
    p.add_argument("--tolerance", type=float,
                   help=f"largest score difference allowed (default {TOLERANCE['fp32']} fp32, {TOLERANCE['int8']} int8)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    return p.parse_args(argv)


def schema_sample(config: dict) -> list[tuple[str, str]]:
    """Articles made of the model's own label descriptions: one per label, one of all of them, and one long
    enough to need several windows. Enough to catch a graph that computes something else."""
    labels = [(x["name"], x.get("description") or x["name"]) for x in config["schema"]["topics"]]
    labels += [(x["name"], x.get("description") or x["name"]) for x in config["schema"]["stances"]]
    arts = [(name.replace("_", " ").title(), text) for name, text in labels]
    everything = " ".join(text for _, text in labels)
    arts.append(("All labels", everything))
    arts.append(("A long article", " ".join([everything] * 4)))
    return arts


def read_sample(inputs: list[str], columns: dict[str, str], limit: int) -> list[tuple[str, str]]:
    records = (r for r in read_inputs(inputs, columns) if isinstance(r, Record))
    arts = [(r.title, r.text) for r in islice(records, limit)]
    if not arts:
        raise NewstagError(f"no article found in --sample {' '.join(inputs)}; pass files newstag-tag can read")
    return arts


def parity(reference, candidate, arts: list[tuple[str, str]], tolerance: float, batch_size: int = 32) -> dict:
    """Compare two taggers on the same articles: decisions at the model's thresholds, stance, calibrated scores
    and evidence sentences.

    Returns:
        The figures, with ``ok`` True when topic sets and stance agree on every article and scores within
        ``tolerance``.
    """
    scores = []
    for tg in (reference, candidate):
        topic, stance, _ = tg.logits(arts, batch_size=batch_size)
        scores.append(probabilities(topic, stance, tg.topic_temperature, tg.stance_temperature))
    (rt, rs), (ct, cs) = scores
    limits = reference.resolve_thresholds()
    same_topics = np.all((rt >= limits) == (ct >= limits), axis=1)
    same_stance = rs.argmax(1) == cs.argmax(1)
    diff = max(float(np.abs(rt - ct).max()), float(np.abs(rs - cs).max()))
    ev_ref = reference.predict(arts, batch_size=batch_size)
    ev_new = candidate.predict(arts, batch_size=batch_size)
    pairs = [(a.name, a.evidence) == (b.name, b.evidence) for ra, rb in zip(ev_ref, ev_new)
             for a, b in zip(ra.topics, rb.topics)]
    return {"articles": len(arts), "identical_topic_sets": round(float(same_topics.mean()), 4),
            "identical_stance": round(float(same_stance.mean()), 4), "max_abs_score_diff": round(diff, 6),
            "tolerance": tolerance, "identical_evidence": round(float(np.mean(pairs)), 4) if pairs else None,
            "ok": bool(same_topics.all() and same_stance.all() and diff <= tolerance)}


def export(model_dir: str | Path, out: str | Path, int8: bool = False, sample: list[tuple[str, str]] | None = None,
           tolerance: float | None = None, overwrite: bool = False) -> dict:
    """Export ``model_dir`` to ``out`` as an ONNX model folder, checked against PyTorch first.

    Returns:
        The export record written to ``tagger.json`` (``onnx``): exporter, fusions, parity figures.
    Raises:
        NewstagError: when the graph disagrees with PyTorch on the sample (nothing is written), or ``out`` exists.
    """
    from .tagger import Tagger

    model_dir, out = Path(model_dir), Path(out)
    if out.resolve() == model_dir.resolve():
        raise NewstagError("the output folder is the model folder; pass another -o")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise NewstagError(f"{out} exists and is not empty; pass --overwrite or another -o")
    reference = Tagger.from_pretrained(model_dir, device="cpu", backend="torch")
    if "onnx" in reference.config:
        raise NewstagError(f"{model_dir} is itself an export; export from the model folder newstag-train wrote")
    tolerance = TOLERANCE["int8" if int8 else "fp32"] if tolerance is None else float(tolerance)
    arts = sample or schema_sample(reference.config)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="newstag_export_") as tmp:
        graph = Path(tmp) / onnx_model.ONNX_FILE
        info = onnx_model.export_graph(copy.deepcopy(reference.model), graph, int8=int8)
        candidate = Tagger(onnx_model.OnnxTaggerModel(onnx_model.session(graph), onnx_model.head_weights(graph)),
                           reference.tokenizer, copy.deepcopy(reference.config), device="cpu")
        check = parity(reference, candidate, arts, tolerance)
        if not check["ok"]:
            raise NewstagError(
                f"the ONNX graph disagrees with PyTorch on the sample ({check['articles']} articles: identical "
                f"topic sets {check['identical_topic_sets']:.2%}, identical stance {check['identical_stance']:.2%}, "
                f"largest score difference {check['max_abs_score_diff']:.4g} against the tolerance {tolerance}); "
                "nothing was saved" + ("; try without --int8" if int8 else ""))
        record = {**info, "file": onnx_model.ONNX_FILE, "exported_from": model_folder.model_id(model_dir),
                  "parity": check, "export_s": round(time.time() - started, 1)}
        if out.exists():
            shutil.rmtree(out)
        # the folder's other files (model card, metrics, report, plots) come along as they are
        shutil.copytree(model_dir, out)
        reference.config["onnx"] = record
        reference.save_pretrained(out)
        shutil.copyfile(graph, out / onnx_model.ONNX_FILE)
    return record


@cli_errors("newstag-export")
def main(argv=None) -> int:
    args = parse_args(argv)
    sample = read_sample(args.sample, parse_columns(args.column), args.sample_size) if args.sample else None
    record = export(args.model, args.output, int8=args.int8, sample=sample, tolerance=args.tolerance,
                    overwrite=args.overwrite)
    check = record["parity"]
    print(f"newstag-export: wrote {Path(args.output) / onnx_model.ONNX_FILE} ({'int8' if args.int8 else 'fp32'}, "
          f"fused: {', '.join(record['fused']) or 'nothing'}); parity on {check['articles']} articles: topic sets "
          f"and stance identical, largest score difference {check['max_abs_score_diff']:.2g} "
          f"(tolerance {check['tolerance']}), evidence identical {check['identical_evidence']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
