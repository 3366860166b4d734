"""Linear-probe start for the heads (LP-FT, Kumar et al. 2022, "Fine-Tuning can Distort Pretrained Features").

A randomly initialised head spends the first epoch of fine-tuning sending large, noisy gradients into the
pretrained encoder while it learns which features matter. Fitting the two heads first on the frozen encoder's
features (one forward pass over the training split, then a convex fit that takes seconds) starts fine-tuning
from a head that already scores well, so fewer epochs reach a given F1.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import f1_score

from inference.model import task_losses
from inference.windows import pad_batch


def first_window_features(model, windows: list[list[int]], pad_id: int, batch_size: int, device: torch.device,
                          bf16: bool, log: bool = True) -> torch.Tensor:
    """Mean-pooled encoder states of each article's first window (title and lead), fp32, in input order; ``log``
    prints the probe's progress line every 10 s."""
    order = np.argsort([len(w) for w in windows], kind="stable")  # similar lengths together: little padding
    feats = torch.empty((len(windows), model.topic_head.in_features), dtype=torch.float32)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    was_training = model.training
    model.eval()
    start = shown = time.monotonic()  # a line every 10 s and at the end
    done = 0
    with torch.inference_mode(), autocast:
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            ids, mask = pad_batch([windows[j] for j in idx], pad_id, multiple_of=32)
            # encode(), not pool(): an exported (onnxruntime) network offers encode too, and the review reads it
            feats[torch.as_tensor(idx)] = model.encode(ids.to(device), mask.to(device))[1].float().cpu()
            done += len(idx)
            if log and (time.monotonic() - shown > 10 or done == len(order)):
                shown = time.monotonic()
                print(f"newstag-train: linear probe: encoded {done}/{len(order)} articles "
                      f"({shown - start:.0f} s)", file=sys.stderr, flush=True)
    model.train(was_training)
    return feats


def head_loss(heads: dict[str, torch.Tensor], x: torch.Tensor, topic_y: torch.Tensor, stance_y: torch.Tensor,
              sample_weight: torch.Tensor, pos_weight: torch.Tensor | None,
              stance_weight: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The training losses (the model's :func:`~inference.model.task_losses`) of linear heads on features ``x``:
    (mean topic BCE, stance cross-entropy), weighted.

    The two heads share no parameter, so each loss depends on its own head only.
    """
    stance = x @ heads["stance_weight"].T + heads["stance_bias"] if heads["stance_weight"].shape[0] > 1 else None
    return task_losses(x @ heads["topic_weight"].T + heads["topic_bias"], stance, topic_y, stance_y, sample_weight,
                       pos_weight, stance_weight)


def fit_linear_heads(x: torch.Tensor, topic_y: torch.Tensor, stance_y: torch.Tensor, n_stances: int,
                     sample_weight: torch.Tensor, pos_weight: torch.Tensor | None, stance_weight: torch.Tensor | None,
                     l2: float, start: dict[str, torch.Tensor] | None = None,
                     max_iter: int = 200) -> dict[str, torch.Tensor]:
    """Weighted logistic regression for the topics and softmax regression for the stance, with an L2 penalty.

    Same losses as training (:func:`head_loss`), fitted full-batch with L-BFGS on standardised features
    (``z = (x - mean) / std``).

    Args:
        l2: penalty on the squared weights over standardised features, per topic / stance class; with the mean
            loss over n articles it matches scikit-learn's ``C = 1 / (2 n l2)``.
        start: standardised-space heads to start from (the previous fit of a path of penalties).

    Returns:
        Heads over standardised features plus ``mean`` and ``std``; :func:`raw_heads` folds them into weights
        over raw features.
    """
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    z = (x - mean) / std
    n_topics = topic_y.shape[1]
    if start is None:
        prior = topic_y.mean(0).clamp(1e-4, 1 - 1e-4)
        start = {"topic_weight": torch.zeros((n_topics, z.shape[1])),
                 "topic_bias": torch.log(prior / (1 - prior)),  # start at the label prior
                 "stance_weight": torch.zeros((n_stances, z.shape[1])), "stance_bias": torch.zeros(n_stances)}
    heads = {k: start[k].detach().clone().requires_grad_(True)
             for k in ("topic_weight", "topic_bias", "stance_weight", "stance_bias")}
    opt = torch.optim.LBFGS(list(heads.values()), lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6)

    def closure():
        opt.zero_grad()
        loss = sum(head_loss(heads, z, topic_y, stance_y, sample_weight, pos_weight, stance_weight)) + l2 * (
            heads["topic_weight"].pow(2).sum() / n_topics + heads["stance_weight"].pow(2).sum() / n_stances)
        loss.backward()
        return loss

    opt.step(closure)
    return {k: v.detach() for k, v in heads.items()} | {"mean": mean, "std": std}


def raw_heads(heads: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Fold the standardisation into the heads: ``z @ W.T + b == x @ (W / std).T + (b - W @ (mean / std))``."""
    mean, std = heads["mean"], heads["std"]
    return {"topic_weight": heads["topic_weight"] / std,
            "topic_bias": heads["topic_bias"] - heads["topic_weight"] @ (mean / std),
            "stance_weight": heads["stance_weight"] / std,
            "stance_bias": heads["stance_bias"] - heads["stance_weight"] @ (mean / std)}


# head_init -> the heads that start from the probe
HEAD_INIT = {"probe": ("topic", "stance"), "probe_topics": ("topic",), "random": ()}

L2_PATH = (1.0, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)


def _targets(split):
    n = len(split["windows"])
    return (torch.tensor(split["topic_labels"], dtype=torch.float32).reshape(n, -1),
            torch.tensor(split["stance_labels"], dtype=torch.long),
            torch.tensor(split["sample_weight"], dtype=torch.float32))


def _rows(split) -> int:
    """Articles in a split (a ``datasets.Dataset``, counted without reading a column, or a dict of columns)."""
    return split.num_rows if hasattr(split, "num_rows") else len(split["windows"])


def _subsample(split, limit: int, seed: int):
    """A seeded random ``limit`` articles of a split (a ``datasets.Dataset`` or a dict of columns); all when it is smaller."""
    if split is None or limit <= 0 or _rows(split) <= limit:
        return split
    idx = np.sort(np.random.default_rng(seed).choice(_rows(split), limit, replace=False))
    if hasattr(split, "select"):
        return split.select(idx)
    return {k: [v[i] for i in idx] for k, v in split.items()}


@dataclass(frozen=True)
class ProbeSettings:
    """How the probe runs and what it fits.

    Attributes:
        pad_id, batch_size, bf16: how the frozen encoder reads the first windows.
        pos_weight, stance_weight: the training losses' class weights (tensors or None).
        l2: the penalty used without a validation split.
        max_articles: fit on a seeded random sample of at most this many articles of each split (0: all); a
            warm start does not need millions, and the features of a sample fit in memory (n x hidden floats).
        seed: the sample's seed.
        probed: the heads that start from the probe ("topic", "stance"); the others keep their random start.
        final: the probe is the model's heads (``epochs: 0``), not the start of fine-tuning.
    """

    pad_id: int = 0
    batch_size: int = 64
    bf16: bool = False
    pos_weight: torch.Tensor | None = None
    stance_weight: torch.Tensor | None = None
    l2: float = 3e-4
    max_articles: int = 0
    seed: int = 0
    probed: tuple[str, ...] = ("topic", "stance")
    final: bool = False


def _fit_on_path(x, targets, xv, val_targets, n_stances: int, s: ProbeSettings) -> tuple[dict, dict]:
    """Fit along ``L2_PATH``; each head keeps the fit with its lowest validation loss. Returns (heads, info)."""
    topic_y, stance_y, weight = targets
    tv, sv, wv = val_targets
    best: dict[str, tuple] = {}  # head -> (validation loss, penalty, its weight and bias)
    fit = None
    for penalty in L2_PATH:
        fit = fit_linear_heads(x, topic_y, stance_y, n_stances, weight, s.pos_weight, s.stance_weight, penalty, fit)
        heads = raw_heads(fit)
        losses = head_loss(heads, xv, tv, sv, wv, s.pos_weight, s.stance_weight)
        for name, loss in zip(("topic", "stance"), losses):  # each head keeps its own best penalty
            if name not in best or float(loss) < best[name][0]:
                best[name] = (float(loss), penalty, {k: heads[k] for k in (f"{name}_weight", f"{name}_bias")})
    heads = best["topic"][2] | best["stance"][2]
    pred = (xv @ heads["topic_weight"].T + heads["topic_bias"] >= 0).int().numpy()
    stance_acc = float(((xv @ heads["stance_weight"].T + heads["stance_bias"]).argmax(1) == sv).float().mean())
    f1 = float(f1_score((tv >= 0.5).int().numpy(), pred, average="micro", zero_division=0))
    return heads, {"l2": {name: best[name][1] for name in best},
                   "validation_loss": {name: round(best[name][0], 4) for name in best},
                   "validation_topic_micro_f1": round(f1, 4), "validation_stance_accuracy": round(stance_acc, 4)}


def probe_init(model, train, validation, settings: ProbeSettings) -> dict:
    """Fit the model's heads on its frozen encoder's features of the training split, in place.

    With a validation split the penalty is chosen on it: the heads are fitted along ``L2_PATH`` (strong to weak,
    each fit starting from the last) and each head keeps the fit with its lowest validation loss. An over-confident
    probe (a weak penalty on a small, separable training split) would start fine-tuning from huge losses.

    Args:
        train, validation: tokenized splits (``windows``, ``topic_labels``, ``stance_labels``, ``sample_weight``);
            ``validation`` may be None or empty.
        settings: see :class:`ProbeSettings`.

    Returns:
        What was done, for the log and ``train_metrics.json``: articles (and ``of_articles`` when sampled),
        seconds, the penalty of each head,
        and on validation each head's loss, the topic micro-F1 at 0.5 and the stance accuracy of the probe.
    """
    began, s = time.monotonic(), settings
    device = next(model.parameters()).device
    if torch.cuda.is_available() and device.type == "cpu":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        model.to(device)
    n_train = _rows(train)
    train = _subsample(train, s.max_articles, s.seed)
    validation = _subsample(validation, s.max_articles, s.seed + 1)

    def features(split):
        return first_window_features(model, [ws[0] for ws in split["windows"]], s.pad_id, s.batch_size, device, s.bf16)

    x, targets = features(train), _targets(train)
    n_stances = model.stance_head.out_features
    info = {"heads": list(s.probed), "articles": len(x)} | ({"of_articles": n_train} if len(x) < n_train else {})
    if validation is not None and _rows(validation):
        heads, found = _fit_on_path(x, targets, features(validation), _targets(validation), n_stances, s)
        info |= found
    else:
        heads = raw_heads(fit_linear_heads(x, *targets[:2], n_stances, targets[2], s.pos_weight, s.stance_weight, s.l2))
        info |= {"l2": {"topic": s.l2, "stance": s.l2}}
    with torch.no_grad():
        for name in s.probed:
            head = getattr(model, f"{name}_head")
            head.weight.copy_(heads[f"{name}_weight"])
            head.bias.copy_(heads[f"{name}_bias"])
    info["seconds"] = round(time.monotonic() - began, 1)
    _log(info, n_train, s.probed, s.final)
    return info


def _log(info: dict, n_train: int, probed: tuple[str, ...], final: bool = False) -> None:
    l2 = info["l2"]
    scored = (f"; validation topic micro-F1 {info['validation_topic_micro_f1']:.3f}, stance accuracy "
              f"{info['validation_stance_accuracy']:.3f}") if "validation_loss" in info else ""
    sampled = f" (a random sample of {n_train})" if info["articles"] < n_train else ""
    print(f"newstag-train: linear probe fitted on {info['articles']} articles{sampled} in {info['seconds']} s (L2 topic "
          f"{l2['topic']:g}, stance {l2['stance']:g}{scored}); "
          + ("these are the model's heads (epochs 0: no fine-tuning)" if final else
             f"fine-tuning starts from it ({' and '.join(probed)} head{'s' if len(probed) > 1 else ''})"),
          file=sys.stderr)
