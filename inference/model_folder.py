"""The model folder, owned here: writing it, reading it, its manifest (``tagger.json``) and its card.

A model folder holds ``model.safetensors`` (encoder and both heads), ``config.json`` (the ``NewstagConfig``:
model type "newstag", the encoder's config inside, the label names), the tokenizer, ``tagger.json`` (labels,
thresholds, temperatures, window settings, schema, training config, data fingerprint, boilerplate),
``train_metrics.json`` and ``README.md`` (the model card). Nothing else opens these files: training builds a
manifest with :func:`new_manifest`, calibrates the ``Tagger`` in memory and saves once with :func:`save`;
inference loads with :func:`load`. A folder written before the "newstag" model type (its ``config.json`` is the
encoder's own) still loads: the network is put together in memory, and saving it writes the new layout.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import hashlib
import json
import warnings
from pathlib import Path

import torch

from .errors import NewstagError

TAGGER_FILE = "tagger.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
TRAIN_METRICS_FILE = "train_metrics.json"
FORMAT = "newstag-tagger"
FORMAT_VERSION = 1
# how the network reads an article; written so a reader of the folder knows, and checked on load
COMPUTATION = {"pooling": "mean", "topic_aggregation": "max", "stance_aggregation": "mean"}


def new_manifest(schema: dict, train_config: dict, base_model: str, name: str, version: str, max_length: int,
                 stride: int, data: str | None = None, fingerprint: str | None = None,
                 boilerplate: list | None = None, bf16: bool = False, train_metrics: dict | None = None) -> dict:
    """A ``tagger.json`` before calibration (thresholds 0.5, temperatures 1).

    Args:
        schema: the label schema as a dict (``Schema.to_dict()``).
        train_config: the resolved training config as a dict.
    """
    metrics = train_metrics or {}
    return {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "topics": [t["name"] for t in schema["topics"]], "stances": [s["name"] for s in schema["stances"]],
        "thresholds": {t["name"]: 0.5 for t in schema["topics"]}, "temperature": {"topic": 1.0, "stance": 1.0},
        "max_length": max_length, "stride": stride, **COMPUTATION,
        "schema": schema, "train_config": train_config, "base_model": base_model,
        "data": data, "data_fingerprint": fingerprint, "boilerplate": boilerplate or [],
        "model_name": name, "model_version": version,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "train_runtime_s": round(metrics.get("train_runtime", 0.0), 1),
        "train_samples_per_second": round(metrics.get("train_samples_per_second", 0.0), 2),
        "bf16": bf16,
    }


def read_manifest(path: str | Path) -> dict:
    """Read and check a model folder's ``tagger.json``.

    Raises:
        NewstagError: when the folder is missing, is not a newstag model, or needs another version of newstag.
    """
    path = Path(path)
    if not path.is_dir():
        raise NewstagError(f"model folder {path} not found; pass the folder written by newstag-train -o")
    cfg_file = path / TAGGER_FILE
    if not cfg_file.is_file() or not (path / WEIGHTS_FILE).is_file():
        raise NewstagError(f"{path} is not a newstag model folder (no {TAGGER_FILE} and {WEIGHTS_FILE}); "
                           "pass the folder written by newstag-train -o")
    try:
        cfg = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise NewstagError(f"{cfg_file} is not valid JSON; re-save the model with newstag-train") from None
    if cfg.get("format") != FORMAT or int(cfg.get("format_version", 0)) > FORMAT_VERSION:
        raise NewstagError(f"{cfg_file} is not a newstag tagger of a version this code reads "
                           f"(format {cfg.get('format')!r} v{cfg.get('format_version')}); upgrade newstag")
    for key, value in COMPUTATION.items():
        if cfg.get(key, value) != value:
            raise NewstagError(f"{cfg_file}: {key} {cfg[key]!r} is not what this code computes ({value!r}); "
                               "use the newstag version that wrote the model")
    return cfg


def model_id(path: str | Path) -> str:
    """A short hash of the manifest: what ``newstag-tag`` writes beside each result to keep outputs apart."""
    return hashlib.sha1((Path(path) / TAGGER_FILE).read_bytes()).hexdigest()[:12]


def load(path: str | Path, device: str | None = None, half: bool | None = None, quantize: str | None = None):
    """The network, tokenizer and manifest of a model folder (safetensors, no remote code).

    Args:
        device: "cpu", "cuda", "cuda:1"...; default: CUDA when available.
        half: bf16/fp16 weights; default: on GPU only.
        quantize: "int8" for dynamic int8 quantization of the encoder's linear layers (CPU only).
    Returns:
        ``(model, tokenizer, manifest, device, dtype)``, ``dtype`` None for fp32.
    """
    from transformers import AutoTokenizer

    manifest = read_manifest(path)
    if quantize not in (None, "int8"):
        raise NewstagError(f"unknown quantize={quantize!r}; use 'int8' or leave it out")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if quantize == "int8" and str(device).startswith("cuda"):
        raise NewstagError("int8 quantization runs on CPU only; pass device='cpu' or leave quantize out")
    model = load_network(path, manifest)
    tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=False)
    if quantize == "int8":
        with warnings.catch_warnings():  # torch marks its quantized tensor types for a later move to torchao
            warnings.simplefilter("ignore", UserWarning)
            # the encoder's linear layers only: the two small heads stay fp32, their logits are the scores
            model.encoder = torch.ao.quantization.quantize_dynamic(model.encoder.eval(), {torch.nn.Linear},
                                                                   dtype=torch.qint8)
        return model, tokenizer, manifest, torch.device("cpu"), None
    dtype = None
    if half if half is not None else str(device).startswith("cuda"):
        dtype = torch.bfloat16 if (not str(device).startswith("cuda") or torch.cuda.is_bf16_supported()) \
            else torch.float16
        model = model.to(dtype)
    return model.to(device), tokenizer, manifest, torch.device(device), dtype


def load_network(path: str | Path, manifest: dict):
    """The ``NewstagModel`` of a model folder, fp32 on CPU, from either layout of ``config.json``.

    Raises:
        NewstagError: when the weights do not match the config, or the config's labels not the manifest's.
    """
    from .configuration import NewstagConfig
    from .modeling import NewstagModel

    path = Path(path)
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        raise NewstagError(f"{path / CONFIG_FILE} is missing or not valid JSON; re-save the model") from None
    if config.get("model_type") == NewstagConfig.model_type:
        with _quiet_transformers():
            model, info = NewstagModel.from_pretrained(str(path), dtype=torch.float32, use_safetensors=True,
                                                       output_loading_info=True)
        missing, unexpected = sorted(info["missing_keys"]), sorted(info["unexpected_keys"])
        missing += sorted(str(k) for k in info.get("mismatched_keys", ()))
    else:  # written before the "newstag" model type: config.json is the encoder's own
        from safetensors.torch import load_file
        from transformers import AutoConfig

        encoder_config = AutoConfig.from_pretrained(str(path), trust_remote_code=False)
        model = NewstagModel(NewstagConfig(encoder_config=encoder_config, topics=manifest["topics"],
                                           stances=manifest["stances"]))
        state = {k: v for k, v in load_file(str(path / WEIGHTS_FILE)).items()
                 if not k.startswith("encoder.pooler.")}  # folders saved before the pooler was dropped
        missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise NewstagError(f"{path}/{WEIGHTS_FILE} does not match its {CONFIG_FILE} "
                           f"(missing {list(missing)[:2]}, unexpected {list(unexpected)[:2]}); re-save the model")
    check_labels(model.config, manifest, path)
    return model.eval()


def check_labels(config, manifest: dict, path) -> None:
    """The network's label names (``config.json``) must be the manifest's, in the same order."""
    for key in ("topics", "stances"):
        if list(getattr(config, key)) != list(manifest[key]):
            raise NewstagError(f"{path}: the {key} of {CONFIG_FILE} are not those of {TAGGER_FILE}; "
                               "re-save the model with newstag-train")


@contextlib.contextmanager
def _quiet_transformers():
    """``from_pretrained`` draws a progress bar per load; a tagging command's output is no place for it."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


def save(path: str | Path, model, tokenizer, manifest: dict, card: str | None = None,
         train_metrics: dict | None = None) -> None:
    """Write the folder: weights as fp32 safetensors, the ``NewstagConfig`` as config.json, the tokenizer,
    ``tagger.json``, and, when given, the model card and ``train_metrics.json``."""
    from safetensors.torch import save_file

    path = Path(path)
    check_labels(model.config, manifest, path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path / WEIGHTS_FILE), metadata={"format": "pt"})
    config = copy.deepcopy(model.config)
    config.dtype = torch.float32  # what the weights are, whatever the network ran in
    config.architectures = [type(model).__name__]
    for cfg in (config, config.encoder_config):  # where it was loaded from: no path of this machine in the folder
        if Path(cfg.name_or_path or "").is_absolute():
            cfg.name_or_path = Path(cfg.name_or_path).name
    config.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    (path / TAGGER_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if train_metrics is not None:
        (path / TRAIN_METRICS_FILE).write_text(json.dumps(train_metrics, indent=2, default=float), encoding="utf-8")
    if card is not None:
        (path / CARD_FILE).write_text(card, encoding="utf-8")
