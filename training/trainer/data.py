"""Articles to training inputs: token windows, targets and weights per article, the batch collator and the
class weights of the two losses."""

from __future__ import annotations

import numpy as np
import torch

from inference.windows import encode_windows, pad_batch

from .config import TrainConfig


def tokenize(ds, tokenizer, schema, cfg: TrainConfig):
    """Per article: its windows, total tokens (for length grouping), multi-hot topics, stance index, weight."""
    topics, stances = schema.topic_names, schema.stance_names

    def fn(batch):
        win = encode_windows(tokenizer, batch["title"], batch["text"], cfg.max_length, cfg.stride,
                             cfg.max_windows or None)
        windows = [[] for _ in batch["text"]]
        for ids, a in zip(win.input_ids, win.article):
            windows[a].append(ids)
        targets, weights = [], []
        for k in range(len(batch["text"])):
            hard = [1.0 if t in batch["topics"][k] else 0.0 for t in topics]
            conf = batch["topic_confidence"][k]
            weak = batch["label_source"][k] == "weak" and conf is not None and len(conf) == len(topics)
            if weak and cfg.weak_confidence == "soft_targets":
                hard = [c if h else 1.0 - c for h, c in zip(hard, conf)]
            targets.append(hard)
            weights.append(float(np.mean(conf)) if weak and cfg.weak_confidence == "sample_weight" else 1.0)
        return {"windows": windows, "n_tokens": [sum(len(w) for w in ws) for ws in windows],
                "topic_labels": targets, "stance_labels": [stances.index(s) for s in batch["stance"]],
                "sample_weight": weights}

    keep = {"windows", "n_tokens", "topic_labels", "stance_labels", "sample_weight"}
    return ds.map(fn, batched=True, batch_size=256, remove_columns=[c for c in ds["train"].column_names if c not in keep],
                  desc="tokenizing")


class WindowCollator:
    """Flattens each article's windows into one padded batch and remembers which window is whose."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: list[dict]) -> dict:
        seqs, owner = [], []
        for i, f in enumerate(features):
            for w in f["windows"]:
                seqs.append(w)
                owner.append(i)
        ids, mask = pad_batch(seqs, self.pad_id, multiple_of=32)
        return {"input_ids": ids, "attention_mask": mask, "window_article": torch.tensor(owner),
                "n_articles": torch.tensor(len(features)),
                "topic_labels": torch.tensor([f["topic_labels"] for f in features], dtype=torch.float32),
                "stance_labels": torch.tensor([f["stance_labels"] for f in features], dtype=torch.long),
                "sample_weight": torch.tensor([f["sample_weight"] for f in features], dtype=torch.float32)}


def class_weights(train, n_topics: int, n_stances: int, cfg: TrainConfig):
    """Per-topic positive weights (negatives/positives, capped) and inverse-frequency stance weights."""
    y = np.array(train["topic_labels"], dtype=np.float64).reshape(-1, n_topics)
    pos = y.sum(0)
    pos_weight = None
    if cfg.topic_pos_weight == "auto":
        pos_weight = torch.tensor(np.clip((len(y) - pos) / np.maximum(pos, 1.0), 1.0, cfg.pos_weight_cap),
                                  dtype=torch.float32)
    stance_weight = None
    if cfg.stance_class_weight == "auto":
        counts = np.bincount(np.array(train["stance_labels"]), minlength=n_stances).astype(np.float64)
        w = counts.sum() / np.maximum(counts, 1.0) / n_stances
        stance_weight = torch.tensor(w / w.mean(), dtype=torch.float32)
    return pos_weight, stance_weight
