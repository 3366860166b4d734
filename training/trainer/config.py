"""Training configuration: YAML files in ``configs/`` read into a dataclass; ``--key value`` overrides a field.

The dataclass's fields and types (``Literal`` for the keys with a fixed set of values) make the command-line
flags through ``transformers.HfArgumentParser``; a YAML file's values go through the same flags, so both
are checked the same way: an unknown key names the nearest known one, an unknown value lists the allowed
ones, a number out of its range says the range. Every problem is one ``NewstagError`` line.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

import yaml

from inference.cli import HelpFormatter
from inference.errors import NewstagError


def _f(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    base_model: str = _f("", "local model folder or hub id; empty: the bundled all-MiniLM-L6-v2")
    max_length: int = _f(256, "tokens per window (title included)")
    stride: int = _f(64, "tokens shared by consecutive windows of a long article")
    max_windows: int = _f(8, "windows per article read in training (tagging reads all); 0: all")
    epochs: float = _f(4.0, "passes over the training split; 0: no fine-tuning, both heads are the linear probe on "
                                 "the frozen base encoder (minutes, not hours, on a CPU: for thousands of weakly "
                                 "labeled articles, configs/train-weak.yaml)")
    learning_rate: float = _f(1e-4, "peak learning rate (linear warm-up then decay)")
    head_learning_rate: float = _f(0.0, "learning rate of the two heads (new, randomly initialised); 0: --learning-rate")
    batch_size: int = _f(16, "articles per training batch")
    eval_batch_size: int = _f(64, "articles per evaluation batch")
    gradient_accumulation_steps: int = _f(1, "batches per optimizer step")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    warmup_ratio: float = _f(0.1, "fraction of steps spent warming up")
    dropout: float = _f(0.1, "dropout before the heads")
    attention_dropout: float = _f(0.0, "dropout on the encoder's attention weights; above 0 the fused attention "
                                       "kernel cannot be used and training runs about 2-4x slower on CPU (BERT's own default is 0.1)")
    head_init: Literal["probe", "probe_topics", "random"] = _f("probe_topics", "probe_topics: fit the topic head on the frozen encoder's features first (LP-FT; "
                                        "one extra forward pass over the training split), then fine-tune, the stance "
                                        "head starting random; probe: both heads; random: neither")
    probe_l2: float = _f(3e-4, "L2 penalty of the linear probe (per topic, standardised features) when there is no "
                                    "validation split to choose it on")
    probe_max_articles: int = _f(20000, "fit the linear probe on a seeded random sample of at most this many articles "
                                        "per split; 0: all")
    topic_loss_weight: float = _f(1.0, "weight of the topic loss in the sum")
    stance_loss_weight: float = _f(1.0, "weight of the stance loss in the sum")
    topic_pos_weight: Literal["auto", "none"] = _f("auto", "auto: per-topic positive weight from label frequencies (capped); none")
    pos_weight_cap: float = _f(10.0, "upper bound of an automatic positive weight")
    stance_class_weight: Literal["auto", "none"] = _f("auto", "auto: inverse-frequency stance class weights; none")
    weak_confidence: Literal["none", "soft_targets", "sample_weight"] = _f(
        "none", "use weak-label confidence for weak examples: as soft targets, as sample weights, or not at all")
    early_stopping_patience: int = _f(3, "evaluations without improvement before stopping; 0: off")
    seed: int = _f(42, "seed of initialisation, shuffling and dropout")
    bf16: Literal["auto", "true", "false"] = _f("auto", "auto: bf16 autocast where the device supports it (CPU with avx512_bf16/AMX, Ampere+ GPU); true; false")
    group_by_length: bool = _f(True, "batch articles of similar length together (less padding)")
    calibrate: bool = _f(True, "fit temperature scaling on the validation split")
    tune_thresholds: bool = _f(True, "tune one threshold per topic on the validation split")
    rule_blend: Literal["auto", "gold", "all", "union", "rules_first", "none"] = _f(
        "rules_first", "combine the labeling rules' votes with the model at tagging time: gold (a blend fitted on the "
        "validation split's hand-labeled articles, at least 20), all (fitted on every article, weak labels too), "
        "union (the rules' topics and stance where they give one, the model's topics besides; elsewhere the default "
        "stance unless the model is 0.99 sure of another), rules_first (the rules' "
        "topics and stance; the model adds a topic or another stance only at probability 0.99 or more: for training "
        "data unlike the text to tag, such as the invented sample), auto (gold when there are enough, else union), none")
    stance_blend: Literal["rules_first", "fitted"] = _f(
        "rules_first", "a fitted blend's (gold, all) stance: rules_first (the rules' stance where they pick one, else "
        "the default unless the model is 0.99 sure of another: on real news no fitted stance beat the rules', "
        "bench_review) or fitted (a logistic map of model logits and rule scores)")
    min_positives_for_threshold: int = _f(30, "validation positives a topic needs for a tuned threshold, else 0.5 (fewer overfit the threshold)")
    logging_steps: int = _f(10, "optimizer steps between training-loss logs; an epoch's row shows the mean of its logs")
    save_total_limit: int = _f(2, "checkpoints kept during training (the best is always kept)")
    keep_checkpoints: bool = _f(False, "keep the checkpoints folder after a finished run (default: removed)")
    resume: Literal["auto", "never"] = _f("auto", "auto: resume from the last checkpoint in the output folder; never")
    num_threads: int = _f(0, "CPU threads for torch; 0: all cores")
    dataloader_num_workers: int = _f(0, "data loading worker processes")
    model_version: str = _f("1", "version string written into the model folder")
    license: str = _f("", "license in the model card's header (a Hub license id); empty: the base model's, as its own "
                          "card states it (apache-2.0 for the bundled all-MiniLM-L6-v2), else 'other'. Mind your "
                          "training data's terms too")
    max_steps: int = _f(-1, "stop after this many optimizer steps (tests, smoke runs); -1: off")

    def __post_init__(self):
        for name, (ok, rule) in RANGES.items():
            value = getattr(self, name)
            if not ok(value):
                raise NewstagError(f"{name}: {value!r} must be {rule}")


def _at_least(low):
    return (lambda v: v >= low), f"at least {low}"


def _above(low):
    return (lambda v: v > low), f"above {low}"


_FRACTION = (lambda v: 0 <= v < 1), "at least 0 and below 1"
# the range of each numeric key (NaN fails every test)
RANGES = {
    "max_length": _at_least(16), "stride": _at_least(0), "max_windows": _at_least(0), "epochs": _at_least(0),
    "learning_rate": _above(0), "head_learning_rate": _at_least(0), "batch_size": _at_least(1),
    "eval_batch_size": _at_least(1), "gradient_accumulation_steps": _at_least(1), "weight_decay": _at_least(0),
    "warmup_ratio": _FRACTION, "dropout": _FRACTION, "attention_dropout": _FRACTION, "probe_l2": _at_least(0),
    "probe_max_articles": _at_least(0), "topic_loss_weight": _at_least(0), "stance_loss_weight": _at_least(0),
    "pos_weight_cap": _above(0), "early_stopping_patience": _at_least(0), "seed": _at_least(0),
    "min_positives_for_threshold": _at_least(0), "logging_steps": _at_least(1), "save_total_limit": _at_least(1),
    "num_threads": _at_least(0), "dataloader_num_workers": _at_least(0),
    "max_steps": ((lambda v: v == -1 or v >= 1), "-1 (off) or at least 1"),
}
KEYS = [f.name for f in dataclasses.fields(TrainConfig)]
_TYPES = get_type_hints(TrainConfig)
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _converter(name: str):
    """The ``type=`` of the flag of ``name``: a string to the field's value, or a one-line error."""
    kind = _TYPES[name]
    if get_origin(kind) is Literal:
        choices = get_args(kind)

        def choice(raw: str):
            if raw not in choices:
                raise argparse.ArgumentTypeError(f"{name}: {raw!r} is not one of {', '.join(choices)}")
            return raw

        return choice

    def convert(raw: str):
        if kind is bool:
            if raw.lower() not in _TRUE + _FALSE:
                raise argparse.ArgumentTypeError(f"{name}: {raw!r} is not a valid bool (true or false)")
            return raw.lower() in _TRUE
        try:
            return kind(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: {raw!r} is not a valid {kind.__name__}") from None

    return convert


def _config_parser_class():
    from transformers import HfArgumentParser

    class ConfigParser(HfArgumentParser):
        """``HfArgumentParser`` of ``TrainConfig``: each key a ``--kebab-case`` flag (``--snake_case`` still
        parses, unlisted), values checked by ``_converter``, every error a ``NewstagError``."""

        def __init__(self, **kwargs):
            super().__init__(TrainConfig, allow_abbrev=False, exit_on_error=False, add_help=False,
                             formatter_class=HelpFormatter, **kwargs)

        def add_argument(self, *names, **kwargs):
            if kwargs.get("action") == "store_false":  # --no-KEY of a true-by-default bool: --KEY false says it
                return super().add_argument(*names, **{**kwargs, "help": argparse.SUPPRESS})
            dest = names[0].lstrip("-").replace("-", "_")
            kwargs.update(type=_converter(dest), metavar=_metavar(dest))
            kebab = [n for n in names if "_" not in n]
            snake = [n for n in names if "_" in n]
            if snake:
                super().add_argument(*snake, **{**kwargs, "dest": dest, "help": argparse.SUPPRESS})
            return super().add_argument(*kebab, **{**kwargs, "dest": dest})

        def error(self, message):
            raise NewstagError(message)

        def parse_overrides(self, args: list[str]) -> dict:
            """The values of ``--key value`` / ``--key=value`` flags, defaults included."""
            try:
                values, rest = self.parse_known_args(args)
            except argparse.ArgumentError as err:
                if err.message.startswith("expected one argument"):
                    raise NewstagError(f"{err.argument_name} needs a value") from None
                raise NewstagError(err.message) from None
            if rest:
                raise NewstagError(_unexpected(rest[0]))
            return vars(values)

    return ConfigParser


def _metavar(name: str) -> str | None:
    kind = _TYPES[name]
    if get_origin(kind) is Literal:
        return None  # argparse shows {a,b,c}
    return {bool: "BOOL", int: "N", float: "X", str: "TEXT"}[kind]


def _nearest(key: str) -> str:
    close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
    return close[0] if close else ""


def _unexpected(token: str) -> str:
    if not token.startswith("--"):
        return f"unexpected argument {token!r}; overrides are --key value"
    key = token.partition("=")[0]
    nearest = _nearest(key[2:].replace("-", "_"))
    hint = f"; did you mean --{nearest.replace('_', '-')}?" if nearest else ""
    return f"unknown option {key}; known keys: {', '.join(KEYS)}{hint}"


def _read_file(path: str) -> dict:
    """The checked values of a YAML config file: its keys known, its values as the flags would take them."""
    p = Path(path)
    if not p.is_file():
        raise NewstagError(f"config file {p} not found; pass --config configs/train.yaml or leave it out")
    try:
        values = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise NewstagError(f"{p}: not valid YAML ({str(err).splitlines()[0]}); fix the syntax") from None
    if not isinstance(values, dict):
        raise NewstagError(f"{p}: must be a mapping of key: value")
    flags = []
    for key, value in values.items():
        if key not in _TYPES:
            nearest = _nearest(str(key))
            raise NewstagError(f"{path}: unknown key '{key}'; known keys: {', '.join(KEYS)}"
                               + (f"; did you mean '{nearest}'?" if nearest else ""))
        if value is None or isinstance(value, (list, dict)):
            raise NewstagError(f"{path}: {key}: needs one value (a number, true/false or a word), not {value!r}")
        flags.append(f"--{key}={str(value).lower() if isinstance(value, bool) else value}")
    try:
        parsed = _config_parser_class()().parse_overrides(flags)
        TrainConfig(**parsed)  # the ranges
    except NewstagError as err:
        raise NewstagError(f"{path}: {err}") from None
    return {k: parsed[k] for k in values}


def load_config(path: str | None, overrides: list[str]) -> TrainConfig:
    """Read a YAML config (optional) and apply ``--key value`` overrides (``--key=value``, ``--kebab-key`` too).

    Raises:
        NewstagError: for an unknown key (naming the nearest known one), a value of the wrong type, a value
            not among a key's choices (listing them) or out of its range.
    """
    parser = _config_parser_class()()
    if path:
        parser.set_defaults(**_read_file(path))
    return TrainConfig(**parser.parse_overrides(list(overrides)))


def help_text() -> str:
    """The config keys as ``--kebab-case`` flags with their values and defaults, for ``newstag-train --help``."""
    parser = _config_parser_class()(usage=argparse.SUPPRESS)
    return parser.format_help().split("\n", 1)[1]  # without the parser's "options:" heading
