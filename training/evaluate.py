"""Score a saved model on a labeled dataset: ``newstag-eval MODEL_DIR DATASET_DIR [--split test]``.

Example:
    newstag-eval runs/demo/model runs/demo/dataset

Writes ``metrics.json`` and ``report.md`` with PNG plots (per-topic scores, stance confusion matrix,
precision-recall and reliability curves). Where the dataset has hand labels, the weak labels of the
rules are scored on the same articles, so the report shows what the model adds over the rules.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference.cli import HelpFormatter, description
from inference.errors import NewstagError, cli_errors
from inference.tagger import Tagger

from . import dataset_folder
from .trainer.evaluation import evaluate_split


@cli_errors("newstag-eval")
def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="newstag-eval", description=description(__doc__), formatter_class=HelpFormatter,
                                epilog="Example: newstag-eval runs/demo/model runs/demo/dataset")
    p.add_argument("model", metavar="MODEL_DIR", help="model folder written by newstag-train")
    p.add_argument("data", metavar="DATASET_DIR", help="dataset folder written by newstag-build")
    p.add_argument("--split", default="test", metavar="NAME", help="split to score: train, validation or test")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="folder for metrics.json, report.md and plots (default: MODEL_DIR/eval-NAME)")
    p.add_argument("--batch-size", type=int, default=64, metavar="N", help="articles per forward pass")
    args = p.parse_args(argv)
    tagger = Tagger.from_pretrained(args.model)  # a clear error before the dataset is read, if it is not a model
    ds, _, _, _ = dataset_folder.load(args.data)
    if args.split not in ds:
        raise NewstagError(f"{args.data} has no split '{args.split}'; splits: {', '.join(ds)}")
    out = Path(args.output or Path(args.model) / f"eval-{args.split}")
    m = evaluate_split(tagger, ds[args.split], out, args.split, args.batch_size, model_name=str(args.model))
    print(f"newstag-eval: {args.split} ({m['examples']} articles): topic micro-F1 {m['topic_micro_f1']:.3f}, "
          f"macro-F1 {m['topic_macro_f1']:.3f}; stance accuracy {m['stance_accuracy']:.3f}, "
          f"macro-F1 {m['stance_macro_f1']:.3f}")
    if "gold" in m:
        g = m["gold"]
        print(f"newstag-eval: on {g['examples']} hand-labeled articles: model topic micro-F1 "
              f"{g['model']['topic_micro_f1']:.3f} vs rules {g['weak_labels']['topic_micro_f1']:.3f}; stance accuracy "
              f"{g['model']['stance_accuracy']:.3f} vs rules {g['weak_labels']['stance_accuracy']:.3f}")
    print(f"newstag-eval: wrote {out / 'metrics.json'} and {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
