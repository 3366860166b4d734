"""How far hand labels can lift a frozen encoder: ``python -m benchmarks.bench_ceiling --model DIR [--shared PATH]``.

Example:
    newstag-build data/sample --gold data/sample/labels.jsonl -o runs/sample_ds
    newstag-train --data runs/sample_ds -o runs/weak_sample --config configs/train-weak.yaml   # 2 min: frozen base
    python -m benchmarks.bench_ceiling --model runs/weak_sample                                  # about 9 min

The ``--model`` folder's encoder (for a ``configs/train-weak.yaml`` model: the frozen base encoder) reads every
article of ``SHARED/gold/real_dev.jsonl`` and of the bench_real pool (3,000 unlabeled real articles, near copies
of dev texts left out) once: first-window mean-pooled features plus the rules' votes, the features
``bench_review``'s retrain and the trainer's probe read. The dev set is cut in two seeded halves; one half gives
the training labels, the other is scored (then swapped; ``--seeds`` random subsets, averaged):

- gold only: probe heads (``fit_linear_heads``) on 100 and on all of the half's gold-labeled articles;
- pool + gold: the pool's and the half's weak labels, with 0, 100 and 200 of the half's articles given their
  gold labels (weight 3): the review loop with ``configs/train-weak.yaml``.

Beside them, the rules on the same halves. Only aggregate figures are printed. This bounds what any review
queue can reach with this encoder (``bench_review``'s goals): the answer is in the figures, not in the ranking.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from .bench_real import pool_candidates, pool_paths, read_jsonl
from .bench_review import dev_and_model, probe_predict, rule_features
from .real_metrics import balanced_sample, score_tags
from .results import benchmark_parser, finish

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

NAME = "bench_ceiling"


def parse_args(argv=None):
    p = benchmark_parser(NAME, __doc__)
    p.add_argument("--model", default="runs/weak_sample", help="model folder whose encoder gives the features")
    p.add_argument("--pool", type=int, default=3000, help="unlabeled real articles (bench_real's pool)")
    p.add_argument("--seeds", type=int, default=3, help="random subsets of a half, averaged")
    p.add_argument("--l2", type=float, default=1e-2, help="L2 penalty of the heads (standardised features)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if (found := dev_and_model(args, f"see the example in: python -m benchmarks.{NAME} -h", ["corpora"])) is None:
        return 0
    shared, dev_file, model_dir = found
    from inference import Tagger
    from training.reviewer.signals import pool_embeddings

    started = time.perf_counter()
    tagger = Tagger.from_pretrained(model_dir, device="cpu")
    topics, stances = list(tagger.topics), list(tagger.stances)
    dev = read_jsonl(dev_file)
    groups, _ = pool_candidates(pool_paths(shared / "corpora"), dev)
    pool = balanced_sample(groups, args.pool, 0)
    feats = {}
    for name, rows in (("dev", dev), ("pool", pool)):
        arts = [(r["title"], r["text"]) for r in rows]
        votes = tagger.rule_votes(arts)
        x = np.concatenate([pool_embeddings(tagger, arts, 32), rule_features(votes.margins, votes.stance)], axis=1)
        feats[name] = (x, (votes.margins >= 0).astype(float), votes.picks)
    features_s = time.perf_counter() - started
    x_dev, rules_dev, picks_dev = feats["dev"]
    x_pool, weak_pool, picks_pool = feats["pool"]
    gold_t = np.array([[t in a["topics"] for t in topics] for a in dev], dtype=float)
    gold_s = np.array([stances.index(a["stance"]) for a in dev])

    def score(idx, top, st):
        r = score_tags([{t for t, on in zip(topics, gold_t[i]) if on} for i in idx],
                       [{t for t, on in zip(topics, row) if on} for row in top],
                       [stances[gold_s[i]] for i in idx], [stances[k] for k in st], topics, stances)
        return r["topic_micro_f1"], r["stance_macro_f1"]

    order = np.random.default_rng(0).permutation(len(dev))
    halves = (np.sort(order[: len(dev) // 2]), np.sort(order[len(dev) // 2:]))
    runs: dict[str, list] = {}
    for a, b in (halves, halves[::-1]):
        runs.setdefault("rules", []).append(score(b, rules_dev[b] > 0, picks_dev[b]))
        for seed in range(args.seeds):
            perm = np.random.default_rng(seed).permutation(a)
            for k in (100, len(a)):
                rev = perm[:k]
                key = f"gold only, {'all' if k == len(a) else k} of the half"
                fit = probe_predict(x_dev[rev], gold_t[rev], gold_s[rev], np.ones(k), x_dev[b], args.l2, len(stances))
                runs.setdefault(key, []).append(score(b, *fit))
            for k in (0, 100, 200):
                rev, rest = perm[:k], perm[k:]
                x = np.concatenate([x_pool, x_dev[rest], x_dev[rev]])
                y = np.concatenate([weak_pool, rules_dev[rest], gold_t[rev]])
                s = np.concatenate([picks_pool, picks_dev[rest], gold_s[rev]])
                w = np.concatenate([np.ones(len(x_pool) + len(rest)), np.full(k, 3.0)])
                runs.setdefault(f"pool weak labels + {k} gold", []).append(
                    score(b, *probe_predict(x, y, s, w, x_dev[b], args.l2, len(stances))))
    metrics = {"dev articles": len(dev), "pool articles": len(pool), "model (encoder)": str(args.model),
               "halves": f"{len(halves[0])} / {len(halves[1])} (seed 0), {args.seeds} subsets each",
               "heads": f"probe (L2 {args.l2:g}, balanced stance weights) on first-window features + rule votes"}
    for key, vals in runs.items():
        v = np.array(vals)
        metrics[f"{key} topic micro-F1"] = round(float(v[:, 0].mean()), 4)
        metrics[f"{key} stance macro-F1"] = round(float(v[:, 1].mean()), 4)
    metrics.update({"features s": round(features_s, 1),
                    "benchmark wall min": round((time.perf_counter() - started) / 60, 2)})
    return finish(NAME, metrics, args.no_record)


if __name__ == "__main__":
    sys.exit(main())
