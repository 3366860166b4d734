"""Train/validation/test assignment: seeded, stratified by label as far as possible, one cluster one split."""

from __future__ import annotations

import random
from collections import Counter

from ..dataset_folder import SPLITS  # noqa: F401 - the split names are the dataset folder's


def assign_splits(examples: list[dict], fractions: tuple[float, float, float] = (0.7, 0.15, 0.15), seed: int = 0,
                  fixed: dict[str, str] | None = None, by_date: bool = False) -> dict[str, str]:
    """Assign each example (``{"id", "labels": [...], "size": n_articles, "date": str|None}``) to a split.

    Each example stands for one duplicate cluster, so no cluster straddles two splits. Greedy iterative
    stratification: examples with the rarest labels are placed first, each into the split with the
    largest remaining demand for its rarest label. ``fixed`` pins examples (gold routed to test).
    With ``by_date`` the oldest go to train and the newest to test instead.

    Returns:
        id -> split name.
    """
    fixed = dict(fixed or {})
    out = dict(fixed)
    free = [e for e in examples if e["id"] not in fixed]
    if by_date:
        free.sort(key=lambda e: (e.get("date") or "", e["id"]))
        n = len(free)
        cut1, cut2 = round(n * fractions[0]), round(n * (fractions[0] + fractions[1]))
        for i, e in enumerate(free):
            out[e["id"]] = SPLITS[0] if i < cut1 else SPLITS[1] if i < cut2 else SPLITS[2]
        return out
    rng = random.Random(seed)
    rng.shuffle(free)
    # Demand is over the free examples: pinned ones (a given test split, gold routed to test) are outside it.
    freq = Counter(label for e in free for label in e["labels"] or ["<none>"])
    total = sum(e.get("size", 1) for e in free)
    want = {s: f * total for s, f in zip(SPLITS, fractions)}
    want_label = {s: {lab: f * n for lab, n in freq.items()} for s, f in zip(SPLITS, fractions)}
    have = Counter()
    have_label = {s: Counter() for s in SPLITS}
    free.sort(key=lambda e: min(freq[lab] for lab in (e["labels"] or ["<none>"])))
    open_splits = [s for s in SPLITS if want[s] > 0]
    for e in free:
        labels = e["labels"] or ["<none>"]
        rarest = min(labels, key=lambda lab: freq[lab])
        # Sechidis et al. (2011): the split with the largest absolute demand for the example's rarest label,
        # then for all its labels, then for examples overall
        s = max(open_splits, key=lambda s: (want_label[s][rarest] - have_label[s][rarest],
                                            sum(want_label[s][lab] - have_label[s][lab] for lab in labels),
                                            want[s] - have[s]))
        out[e["id"]] = s
        have[s] += e.get("size", 1)
        have_label[s].update(labels)
    return out
