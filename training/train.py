"""Fine-tune a tagger: ``newstag-train --data DATASET_DIR -o MODEL_DIR [--config FILE] [--key value ...]``.

Example:
    newstag-train --data runs/demo/dataset -o runs/demo/model --config configs/train.yaml --epochs 3

Reads top to bottom: parse config, load dataset, tokenize into windows, build the two-head model,
``Trainer``, train (early stopping, best checkpoint, resume), calibrate and tune thresholds on the
validation split, evaluate on the test split, save the self-describing model folder.
On several GPUs: ``accelerate launch -m training.train ...`` or ``torchrun -m training.train ...``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inference.errors import NewstagError, cli_errors
from inference.model import FORMAT, FORMAT_VERSION, TaggerModel, default_base_model, load_encoder
from inference.schema import schema_from_dict
from inference.tagger import save_model_folder
from inference.windows import encode_windows, pad_batch

from .config import TrainConfig, help_text, load_config
from .probe import HEAD_INIT, probe_init


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="newstag-train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="config keys (each also a --key value override):\n" + help_text())
    p.add_argument("--data", required=True, help="dataset folder written by newstag-build")
    p.add_argument("-o", "--output", required=True, help="model folder to write")
    p.add_argument("--config", help="YAML config (configs/train.yaml, configs/train-gpu.yaml)")
    return p.parse_known_args(argv)


def bf16_supported() -> bool:
    """bf16 autocast for ``bf16: auto``: GPUs that have it, CPUs with native bf16 (avx512_bf16, AMX)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def load_dataset_dir(path: str):
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


def make_trainer_class():
    from transformers import Trainer

    class NewstagTrainer(Trainer):
        """Multi-task loss: weighted BCE over topics plus weighted cross-entropy over stance."""

        def __init__(self, *args, pos_weight=None, stance_weight=None, loss_weights=(1.0, 1.0), head_lr=0.0,
                     **kwargs):
            super().__init__(*args, **kwargs)
            self.pos_weight, self.stance_weight, self.loss_weights = pos_weight, stance_weight, loss_weights
            self.head_lr = head_lr

        def create_optimizer(self, model=None):
            """The default AdamW, with the heads in their own parameter groups at ``head_lr`` when it is set."""
            if self.optimizer is None and self.head_lr:
                model = self.model if model is None else model
                decay = set(self.get_decay_parameter_names(model))
                groups = []
                for head in (False, True):
                    for decays in (True, False):
                        params = [p for n, p in model.named_parameters() if p.requires_grad
                                  and (n in decay) == decays and n.startswith("encoder.") != head]
                        if params:
                            groups.append({"params": params, "weight_decay": self.args.weight_decay if decays else 0.0,
                                           **({"lr": self.head_lr} if head else {})})
                cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
                self.optimizer = cls(groups, **kwargs)
            return super().create_optimizer(model)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            topic_y = inputs.pop("topic_labels")
            stance_y = inputs.pop("stance_labels")
            weight = inputs.pop("sample_weight")
            out = model(**inputs)
            dev = topic_y.device
            pw = self.pos_weight.to(dev) if self.pos_weight is not None else None
            sw = self.stance_weight.to(dev) if self.stance_weight is not None else None
            topic_loss = F.binary_cross_entropy_with_logits(out["topic_logits"].float(), topic_y, pos_weight=pw,
                                                            reduction="none").mean(1)
            stance_loss = F.cross_entropy(out["stance_logits"].float(), stance_y, weight=sw, reduction="none")
            a, b = self.loss_weights
            loss = ((a * topic_loss + b * stance_loss) * weight).sum() / weight.sum().clamp(min=1e-6)
            return (loss, out) if return_outputs else loss

    return NewstagTrainer


def compute_metrics(eval_pred) -> dict:
    from sklearn.metrics import f1_score

    (topic_logits, stance_logits), (topic_y, stance_y) = eval_pred.predictions, eval_pred.label_ids
    topic_pred = (topic_logits >= 0).astype(int)
    topic_f1 = f1_score((topic_y >= 0.5).astype(int), topic_pred, average="micro", zero_division=0)
    stance_f1 = f1_score(stance_y, stance_logits.argmax(-1), average="macro", zero_division=0)
    return {"topic_micro_f1": topic_f1, "stance_macro_f1": stance_f1, "score": (topic_f1 + stance_f1) / 2}


@cli_errors("newstag-train")
def main(argv=None, callbacks: Sequence = ()) -> int:
    args, rest = parse_args(argv)
    cfg = load_config(args.config, rest)
    return train(args.data, args.output, cfg, callbacks)


def train(data: str, output: str, cfg: TrainConfig, callbacks: Sequence = ()) -> int:
    """Fine-tune, calibrate, evaluate and save; returns 0. See the module docstring.

    Args:
        callbacks: extra ``transformers.TrainerCallback`` objects (benchmarks time epochs with one).
    """
    from transformers import AutoTokenizer, EarlyStoppingCallback, TrainingArguments, set_seed

    from .evaluate import calibrate_and_tune, evaluate_split

    if cfg.head_init not in HEAD_INIT:
        raise NewstagError(f"head_init: {cfg.head_init!r} is not one of {', '.join(HEAD_INIT)}")
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    set_seed(cfg.seed)
    ds, schema, fingerprint, boilerplate = load_dataset_dir(data)
    if len(ds["train"]) == 0:
        raise NewstagError(f"{data} has an empty train split; build with more articles or other --fractions")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    base = cfg.base_model or default_base_model()
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=False)
    encoder = load_encoder(base, config_overrides={"attention_probs_dropout_prob": cfg.attention_dropout,
                                                   "attention_dropout": cfg.attention_dropout})
    model = TaggerModel(encoder, len(schema.topics), len(schema.stances), dropout=cfg.dropout)

    tok = tokenize(ds, tokenizer, schema, cfg)
    pos_weight, stance_weight = class_weights(tok["train"], len(schema.topics), len(schema.stances), cfg)
    use_bf16 = cfg.bf16 == "true" or (cfg.bf16 == "auto" and bf16_supported())
    has_val = len(tok["validation"]) > 0
    targs = TrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size, gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_ratio, lr_scheduler_type="linear",
        eval_strategy="epoch" if has_val else "no", save_strategy="epoch",
        load_best_model_at_end=has_val, metric_for_best_model="score", greater_is_better=True,
        save_total_limit=cfg.save_total_limit, logging_steps=cfg.logging_steps, seed=cfg.seed, data_seed=cfg.seed,
        bf16=use_bf16, use_cpu=not torch.cuda.is_available(), report_to="none", remove_unused_columns=False,
        label_names=["topic_labels", "stance_labels"], length_column_name="n_tokens",
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        dataloader_num_workers=cfg.dataloader_num_workers, disable_tqdm=False, save_only_model=False,
        ddp_find_unused_parameters=False,  # every weight takes part in every step (the BERT pooler is dropped)
    )
    resume = cfg.resume == "auto" and any((out / "checkpoints").glob("checkpoint-*"))
    probe = {}
    if HEAD_INIT[cfg.head_init] and not resume:  # a resumed run loads its heads from the checkpoint
        probe = probe_init(model, tok["train"], tok["validation"] if has_val else None, tokenizer.pad_token_id or 0,
                           cfg.eval_batch_size, use_bf16, pos_weight, stance_weight, cfg.probe_l2,
                           cfg.probe_max_articles, cfg.seed, HEAD_INIT[cfg.head_init])
    trainer = make_trainer_class()(
        model=model, args=targs, train_dataset=tok["train"], eval_dataset=tok["validation"] if has_val else None,
        data_collator=WindowCollator(tokenizer.pad_token_id or 0), compute_metrics=compute_metrics,
        callbacks=[*([EarlyStoppingCallback(cfg.early_stopping_patience)] if has_val and cfg.early_stopping_patience
                     else []), *callbacks],
        pos_weight=pos_weight, stance_weight=stance_weight,
        loss_weights=(cfg.topic_loss_weight, cfg.stance_loss_weight), head_lr=cfg.head_learning_rate,
    )
    if resume:
        print(f"newstag-train: resuming from the last checkpoint in {out / 'checkpoints'}", file=sys.stderr)
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    if not trainer.is_world_process_zero():
        return 0

    tagger_config = make_tagger_config(schema, cfg, base, name=out.resolve().name, data=str(Path(data).resolve()),
                                       fingerprint=fingerprint, boilerplate=boilerplate, bf16=use_bf16,
                                       train_metrics=result.metrics)
    save_model_folder(out, trainer.model, tokenizer, tagger_config)
    calibration = calibrate_and_tune(out, ds["validation"], cfg) if has_val else {}
    metrics = evaluate_split(out, ds["test"], out, split_name="test") if len(ds["test"]) else {}
    summary = {"train": result.metrics, "processes": trainer.args.world_size, "linear_probe": probe,
               "calibration": calibration, "test": metrics}
    (out / "train_metrics.json").write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    write_model_card(out)
    if os.environ.get("NEWSTAG_KEEP_CHECKPOINTS") != "1":
        import shutil

        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    line = f"newstag-train: wrote {out}"
    if metrics:
        line += (f"; test topic micro-F1 {metrics['topic_micro_f1']:.3f}, macro-F1 {metrics['topic_macro_f1']:.3f}, "
                 f"stance accuracy {metrics['stance_accuracy']:.3f} ({metrics['examples']} articles)")
    print(line)
    return 0


def make_tagger_config(schema, cfg: TrainConfig, base: str, name: str, data: str | None = None,
                       fingerprint: str | None = None, boilerplate: list | None = None, bf16: bool = False,
                       train_metrics: dict | None = None) -> dict:
    """The model folder's ``tagger.json`` before calibration (thresholds 0.5, temperatures 1)."""
    metrics = train_metrics or {}
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "topics": schema.topic_names, "stances": schema.stance_names,
        "thresholds": {t: 0.5 for t in schema.topic_names}, "temperature": {"topic": 1.0, "stance": 1.0},
        "max_length": cfg.max_length, "stride": cfg.stride, "pooling": "mean",
        "topic_aggregation": "max", "stance_aggregation": "mean",
        "schema": schema.to_dict(), "train_config": dataclasses.asdict(cfg), "base_model": base,
        "data": data, "data_fingerprint": fingerprint, "boilerplate": boilerplate or [],
        "model_name": name, "model_version": cfg.model_version,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "train_runtime_s": round(metrics.get("train_runtime", 0.0), 1),
        "train_samples_per_second": round(metrics.get("train_samples_per_second", 0.0), 2),
        "bf16": bf16,
    }


def write_model_card(out: Path) -> None:
    """The model folder's README: base model, data, config, metrics, thresholds, intended use and limits."""
    cfg = json.loads((out / "tagger.json").read_text(encoding="utf-8"))
    metrics = json.loads((out / "metrics.json").read_text()) if (out / "metrics.json").is_file() else {}
    summary = json.loads((out / "train_metrics.json").read_text()) if (out / "train_metrics.json").is_file() else {}
    probe = summary.get("linear_probe") or {}
    if probe:
        scored = (f", validation topic micro-F1 {probe['validation_topic_micro_f1']:.3f}"
                  if "validation_topic_micro_f1" in probe else "")
        of = f" of {probe['of_articles']}" if "of_articles" in probe else ""
        probed = probe.get("heads", ["topic", "stance"])
        l2 = ", ".join(f"{name} {probe['l2'][name]:g}" for name in probed)
        start = (f"{' and '.join(probed)} head{'s' if len(probed) > 1 else ''} fitted first as a linear probe on the "
                 f"frozen encoder ({probe['articles']}{of} articles, L2 {l2}{scored})"
                 + "".join(f"; the {name} head started random" for name in ("topic", "stance") if name not in probed))
    elif cfg["train_config"].get("head_init") == "random":
        start = "random heads"
    else:
        start = f"heads started by `head_init: {cfg['train_config'].get('head_init')}` in the run this one resumed"
    lines = [
        f"# {cfg['model_name']} (newstag tagger v{cfg['model_version']})", "",
        "Tags news articles with topics (multi-label) and a stance toward the main development reported.", "",
        "```python", "from inference import Tagger", f"tagger = Tagger.from_pretrained({str(out)!r})",
        'tagger.predict("Both sides agreed to a 72-hour truce on Sunday ...")', "```", "",
        "## Model", "",
        f"- Base encoder: `{cfg['base_model']}`; mean pooling; a topic head (sigmoid, one threshold per topic) and "
        "a stance head (softmax) from one forward pass.",
        f"- Windows of {cfg['max_length']} tokens with a stride of {cfg['stride']}; topic logits aggregated by max, "
        "stance logits by mean over an article's windows.",
        f"- Temperatures: topic {cfg['temperature']['topic']:.3f}, stance {cfg['temperature']['stance']:.3f}.",
        f"- Trained on `{cfg['data']}` (fingerprint `{cfg['data_fingerprint']}`) in {cfg.get('train_runtime_s', 0)} s, "
        f"bf16 {cfg.get('bf16')}; fine-tuning started from {start}.", "",
        "## Thresholds", "", "| topic | threshold |", "|---|---|",
        *[f"| {t} | {v:.3f} |" for t, v in cfg["thresholds"].items()], "",
    ]
    if metrics:
        lines += ["## Test metrics", "", f"- Topic micro-F1 {metrics['topic_micro_f1']:.3f}, macro-F1 "
                  f"{metrics['topic_macro_f1']:.3f}", f"- Stance accuracy {metrics['stance_accuracy']:.3f}, macro-F1 "
                  f"{metrics['stance_macro_f1']:.3f}", f"- {metrics['examples']} test articles; details in "
                  "`metrics.json` and `report.md`.", ""]
    lines += ["## Config", "", "```json", json.dumps(cfg["train_config"], indent=1), "```", "",
              "## Intended use and limits", "",
              "- For triage and analysis of news articles in English, in the label schema stored in `tagger.json`.",
              "- Labels came partly from keyword rules (weak labels); errors of the rules can be learned. "
              "Scores are calibrated on the validation split only.",
              "- Stance is toward the main development an article reports, not toward any party.",
              "- Not for decisions about individuals."]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
