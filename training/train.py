"""Fine-tune a tagger: ``newstag-train --data DATASET_DIR -o MODEL_DIR [--config FILE] [--key value ...]``.

Example:
    newstag-train --data runs/demo/dataset -o runs/demo/model --config configs/train.yaml --epochs 3

Reads top to bottom: parse config, load dataset, tokenize into windows, build the two-head model, fit the
heads as a linear probe, ``Trainer`` (early stopping, best checkpoint, resume), calibrate temperatures and
thresholds on the validation split, evaluate on the test split, save the self-describing model folder once.
On several GPUs: ``accelerate launch -m training.train ...`` or ``torchrun -m training.train ...``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from inference import model_folder
from inference.cli import HelpFormatter, description
from inference.errors import NewstagError, cli_errors
from inference.model import DEFAULT_BASE_MODEL_ID, default_base_model, load_encoder
from inference.tagger import Tagger

from . import dataset_folder
from .trainer.calibration import calibrate
from .trainer.card import base_license, model_card
from .trainer.config import TrainConfig, help_text, load_config
from .trainer.data import WindowCollator, class_weights, tokenize
from .trainer.evaluation import evaluate_split
from .trainer.loop import bf16_supported, compute_metrics, make_trainer_class, training_arguments
from .trainer.probe import HEAD_INIT, ProbeSettings, probe_init


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="newstag-train", description=description(__doc__), formatter_class=HelpFormatter, allow_abbrev=False,
        usage="newstag-train --data DATASET_DIR -o MODEL_DIR [--config FILE] [--KEY VALUE ...]",
        epilog="config keys, each a flag that overrides the config file (the spelling with underscores works too):\n"
               + help_text())
    p.add_argument("--data", required=True, metavar="DATASET_DIR", help="dataset folder written by newstag-build")
    p.add_argument("-o", "--output", required=True, metavar="MODEL_DIR", help="model folder to write")
    p.add_argument("--config", metavar="FILE",
                   help="YAML config (configs/train.yaml, configs/train-gpu.yaml); without it the built-in "
                        "defaults, which configs/train.yaml repeats")
    return p.parse_known_args(argv)


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
    import datasets
    from transformers import EarlyStoppingCallback, set_seed
    from transformers.utils import logging as hf_logging

    datasets.disable_progress_bars()  # "Map", "Saving the dataset": the table below says what happens
    hf_logging.disable_progress_bar()  # "Writing model shards"

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    set_seed(cfg.seed)
    ds, schema, fingerprint, boilerplate = dataset_folder.load(data)
    if len(ds["train"]) == 0:
        raise NewstagError(f"{data} has an empty train split; build with more articles or other --fractions")
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    base, tokenizer, model = _base_model(cfg, schema)
    tok = tokenize(ds, tokenizer, schema, cfg)
    pos_weight, stance_weight = class_weights(tok["train"], len(schema.topics), len(schema.stances), cfg)
    use_bf16 = cfg.bf16 == "true" or (cfg.bf16 == "auto" and bf16_supported())
    has_val = len(tok["validation"]) > 0
    resume = cfg.resume == "auto" and any((out / "checkpoints").glob("checkpoint-*"))
    probe = {}
    probe_only = cfg.epochs == 0  # no fine-tuning: both heads are the probe, the encoder stays the base one
    probed = HEAD_INIT["probe"] if probe_only else HEAD_INIT[cfg.head_init]
    if probed and (probe_only or not resume):  # a resumed fine-tuning run loads its heads from the checkpoint
        probe = probe_init(model, tok["train"], tok["validation"] if has_val else None, ProbeSettings(
            pad_id=tokenizer.pad_token_id or 0, batch_size=cfg.eval_batch_size, bf16=use_bf16, pos_weight=pos_weight,
            stance_weight=stance_weight, l2=cfg.probe_l2, max_articles=cfg.probe_max_articles, seed=cfg.seed,
            probed=probed, final=probe_only))
    if probe_only:
        model.eval()
        result_metrics = {"epoch": 0.0, "train_runtime": probe.get("seconds", 0.0), "probe_only": True}
        return _finish(data, out, cfg, schema, base, fingerprint, boilerplate, use_bf16, tokenizer, model, ds,
                       has_val, result_metrics, probe, processes=1)
    trainer = make_trainer_class()(
        model=model, args=training_arguments(cfg, out, has_val, use_bf16), train_dataset=tok["train"],
        eval_dataset=tok["validation"] if has_val else None,
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

    return _finish(data, out, cfg, schema, base, fingerprint, boilerplate, use_bf16, tokenizer, trainer.model, ds,
                   has_val, result.metrics, probe, processes=trainer.args.world_size)


def _finish(data, out: Path, cfg: TrainConfig, schema, base, fingerprint, boilerplate, use_bf16, tokenizer, model, ds,
            has_val: bool, train_metrics: dict, probe: dict, processes: int) -> int:
    """Calibrate, evaluate on the test split and save the model folder (the main process only); returns 0."""
    manifest = model_folder.new_manifest(
        schema.to_dict(), {**dataclasses.asdict(cfg), "base_model": local_name(cfg.base_model)}, base,
        name=out.resolve().name, version=cfg.model_version,
        max_length=cfg.max_length, stride=cfg.stride, data=local_name(data), fingerprint=fingerprint,
        boilerplate=boilerplate, bf16=use_bf16, train_metrics=train_metrics)
    tagger = Tagger(model, tokenizer, manifest)  # calibrated and scored in memory, saved once
    calibration = calibrate(tagger, ds["validation"], cfg) if has_val else {}
    metrics = evaluate_split(tagger, ds["test"], out, split_name="test", model_name=str(out)) \
        if len(ds["test"]) else {}
    summary = {"train": train_metrics, "processes": processes, "linear_probe": probe,
               "calibration": calibration, "test": metrics}
    license = cfg.license or base_license(cfg.base_model or default_base_model()) or "other"
    tagger.save_pretrained(out, card=model_card(out, manifest, summary, license), train_metrics=summary)
    if not cfg.keep_checkpoints:
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    line = f"newstag-train: wrote {out}"
    if metrics:
        line += (f"; test topic micro-F1 {metrics['topic_micro_f1']:.3f}, macro-F1 {metrics['topic_macro_f1']:.3f}, "
                 f"stance accuracy {metrics['stance_accuracy']:.3f} ({metrics['examples']} articles)")
    print(line)
    return 0


def _base_model(cfg: TrainConfig, schema):
    """The base encoder (``base_model``, else the bundled one) with two new heads, and its tokenizer."""
    from transformers import AutoTokenizer

    from inference.modeling import NewstagModel

    base = cfg.base_model or default_base_model()
    tokenizer = AutoTokenizer.from_pretrained(base, trust_remote_code=False)
    encoder = load_encoder(base, config_overrides={"attention_probs_dropout_prob": cfg.attention_dropout,
                                                   "attention_dropout": cfg.attention_dropout})
    model = NewstagModel.from_encoder(encoder, schema.topic_names, schema.stance_names, head_dropout=cfg.dropout)
    return base_model_name(cfg.base_model), tokenizer, model


def base_model_name(given: str) -> str:
    """The base model as the model folder names it (``local_name``), the hub id of the bundled one by default."""
    return local_name(given) if given else DEFAULT_BASE_MODEL_ID


def local_name(given: str) -> str:
    """A path or hub id as a model folder records it: as given, but an absolute path by its last part alone
    (no path of the machine that trained goes into the folder)."""
    return Path(given).name if given and Path(given).is_absolute() else given


if __name__ == "__main__":
    sys.exit(main())
