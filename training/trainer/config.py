"""Training configuration: YAML files in ``configs/`` read into a dataclass; ``--key value`` overrides a field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from inference.errors import NewstagError


def _f(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    base_model: str = _f("", "local model folder or hub id; empty: the bundled all-MiniLM-L6-v2")
    max_length: int = _f(256, "tokens per window (title included)")
    stride: int = _f(64, "tokens shared by consecutive windows of a long article")
    max_windows: int = _f(8, "windows per article read in training (tagging reads all); 0: all")
    epochs: float = _f(12.0, "passes over the training split")
    learning_rate: float = _f(1e-4, "peak learning rate (linear warm-up then decay)")
    head_learning_rate: float = _f(0.0, "learning rate of the two heads (new, randomly initialised); 0: learning_rate")
    batch_size: int = _f(16, "articles per training batch")
    eval_batch_size: int = _f(64, "articles per evaluation batch")
    gradient_accumulation_steps: int = _f(1, "batches per optimizer step")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    warmup_ratio: float = _f(0.1, "fraction of steps spent warming up")
    dropout: float = _f(0.1, "dropout before the heads")
    attention_dropout: float = _f(0.0, "dropout on the encoder's attention weights; above 0 the fused attention "
                                       "kernel cannot be used and training runs about 2-4x slower on CPU (BERT's own default is 0.1)")
    head_init: str = _f("probe_topics", "probe_topics: fit the topic head on the frozen encoder's features first (LP-FT; "
                                        "one extra forward pass over the training split), then fine-tune, the stance "
                                        "head starting random; probe: both heads; random: neither")
    probe_l2: float = _f(3e-4, "L2 penalty of the linear probe (per topic, standardised features) when there is no "
                                    "validation split to choose it on")
    probe_max_articles: int = _f(20000, "fit the linear probe on a seeded random sample of at most this many articles "
                                        "per split; 0: all")
    topic_loss_weight: float = _f(1.0, "weight of the topic loss in the sum")
    stance_loss_weight: float = _f(1.0, "weight of the stance loss in the sum")
    topic_pos_weight: str = _f("auto", "auto: per-topic positive weight from label frequencies (capped); none")
    pos_weight_cap: float = _f(10.0, "upper bound of an automatic positive weight")
    stance_class_weight: str = _f("auto", "auto: inverse-frequency stance class weights; none")
    weak_confidence: str = _f("none", "none | soft_targets | sample_weight: use weak-label confidence for weak examples")
    early_stopping_patience: int = _f(3, "evaluations without improvement before stopping; 0: off")
    seed: int = _f(42, "seed of initialisation, shuffling and dropout")
    bf16: str = _f("auto", "auto: bf16 autocast where the device supports it (CPU with avx512_bf16/AMX, Ampere+ GPU); true; false")
    group_by_length: bool = _f(True, "batch articles of similar length together (less padding)")
    calibrate: bool = _f(True, "fit temperature scaling on the validation split")
    tune_thresholds: bool = _f(True, "tune one threshold per topic on the validation split")
    rule_blend: str = _f("auto", "blend the labeling rules' votes with the model at tagging time, fitted on the validation "
                                 "split: gold (on its hand-labeled articles, at least 20), all (every article, weak "
                                 "labels too), auto (gold when there are enough, else none), none")
    min_positives_for_threshold: int = _f(10, "validation positives a topic needs for a tuned threshold, else 0.5 (fewer overfit the threshold)")
    logging_steps: int = _f(10, "optimizer steps between log lines")
    save_total_limit: int = _f(2, "checkpoints kept during training (the best is always kept)")
    keep_checkpoints: bool = _f(False, "keep the checkpoints folder after a finished run (default: removed)")
    resume: str = _f("auto", "auto: resume from the last checkpoint in the output folder; never")
    num_threads: int = _f(0, "CPU threads for torch; 0: all cores")
    dataloader_num_workers: int = _f(0, "data loading worker processes")
    model_version: str = _f("1", "version string written into the model folder")
    max_steps: int = _f(-1, "stop after this many optimizer steps (tests, smoke runs); -1: off")


def load_config(path: str | None, overrides: list[str]) -> TrainConfig:
    """Read a YAML config (optional) and apply ``--key value`` overrides.

    Raises:
        NewstagError: for an unknown key, naming it, or a value of the wrong type.
    """
    values: dict = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise NewstagError(f"config file {p} not found; pass --config configs/train.yaml or leave it out")
        try:
            values = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise NewstagError(f"{p}: not valid YAML ({str(err).splitlines()[0]}); fix the syntax") from None
        if not isinstance(values, dict):
            raise NewstagError(f"{p}: must be a mapping of key: value")
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for key in values:
        if key not in fields:
            raise NewstagError(f"{path}: unknown key '{key}'; known keys: {', '.join(fields)}")
    it = iter(overrides)
    for flag in it:
        if not flag.startswith("--"):
            raise NewstagError(f"unexpected argument {flag!r}; overrides are --key value")
        key, _, val = flag[2:].partition("=")
        key = key.replace("-", "_")
        if key not in fields:
            raise NewstagError(f"unknown option --{key}; known keys: {', '.join(fields)}")
        if not _:
            val = next(it, None)
            if val is None:
                raise NewstagError(f"--{key} needs a value")
        values[key] = val
    cfg = TrainConfig()
    for key, val in values.items():
        kind = type(getattr(cfg, key))
        try:
            if kind is bool and isinstance(val, str):
                if val.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                val = val.lower() in ("true", "1", "yes")
            setattr(cfg, key, kind(val))
        except (TypeError, ValueError):
            raise NewstagError(f"{key}: {val!r} is not a valid {kind.__name__}") from None
    return cfg


def help_text() -> str:
    return "\n".join(f"  --{f.name} ({type(f.default).__name__}, default {f.default!r}): {f.metadata['help']}"
                     for f in dataclasses.fields(TrainConfig))
