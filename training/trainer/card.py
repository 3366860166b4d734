"""The model card (the model folder's ``README.md``), written from the manifest and the training summary.

It opens with the Hugging Face Hub's YAML metadata (license, base model, pipeline tag, language, tags, metrics
and the test results as a ``model-index``) and names no path of the machine that trained it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

TAGS = ["newstag", "news", "topic-classification", "multi-label-classification", "stance-detection"]


def model_card(out: Path, cfg: dict, summary: dict, license: str = "other") -> str:
    """The model folder's README: Hub metadata, base model, data, config, metrics, thresholds, intended use and
    limits.

    Args:
        out: the model folder (as the user named it, for the usage example; an absolute path by its name).
        cfg: the manifest (``tagger.json``), calibrated.
        summary: what ``train_metrics.json`` holds (``linear_probe``, ``test`` metrics...).
        license: the Hub license id of the header.
    """
    metrics = summary.get("test") or {}
    folder = out.name if out.is_absolute() else str(out)
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
        "---", yaml.safe_dump(hub_metadata(cfg, metrics, license), sort_keys=False, allow_unicode=True).strip(),
        "---", "",
        f"# {cfg['model_name']} (newstag tagger v{cfg['model_version']})", "",
        "Tags news articles with topics (multi-label) and a stance toward the main development reported.", "",
        "```python", "from inference import Tagger", f"tagger = Tagger.from_pretrained({folder!r})",
        'tagger.predict("Both sides agreed to a 72-hour truce on Sunday ...")', "",
        "# or through transformers (the import registers the model type and the task):",
        "from transformers import pipeline",
        f"pipeline(\"newstag\", model={folder!r})(\"Both sides agreed to a 72-hour truce on Sunday ...\")",
        "```", "",
        "## Model", "",
        f"- Base encoder: `{cfg['base_model']}`; mean pooling; a topic head (sigmoid, one threshold per topic) and "
        "a stance head (softmax) from one forward pass.",
        f"- Windows of {cfg['max_length']} tokens with a stride of {cfg['stride']}; topic logits aggregated by max, "
        "stance logits by mean over an article's windows.",
        f"- Temperatures: topic {cfg['temperature']['topic']:.3f}, stance {cfg['temperature']['stance']:.3f}.",
        f"- Trained on `{cfg['data']}` (fingerprint `{cfg['data_fingerprint']}`) in {cfg.get('train_runtime_s', 0)} s, "
        f"bf16 {cfg.get('bf16')}; " + (f"no fine-tuning (epochs 0): the base encoder as it is, {start}."
                                        if (summary.get("train") or {}).get("probe_only")
                                        else f"fine-tuning started from {start}."),
        f"- Rules and model at tagging time: {blend_line(cfg.get('blend'))}", "",
        "## Thresholds", "", threshold_line(cfg), "", "| topic | threshold |", "|---|---|",
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
    return "\n".join(lines) + "\n"


def blend_line(blend: dict | None) -> str:
    """How the tagger combines the labeling rules in ``tagger.json`` with the network."""
    if not blend:
        return "the model alone decides (`rule_blend: none`, no rules, or too few articles to fit a blend on)."
    if blend.get("kind") == "rules_first":
        return (f"rules first: a topic the rules give is given, the model alone adds one only at probability "
                f"{blend.get('model_alone_p')} or more (every threshold); the stance is the rules' where they pick one "
                "other than the default, else the default unless the model is as sure of another.")
    rules_stance = ("the stance is the rules' where they pick one other than the default, else the default unless the "
                    f"model is {blend.get('model_alone_p', 0.99)} sure of another")
    if blend.get("kind") == "union":
        return ("the union: a topic the rules give is given, the model adds those it scores above their "
                f"thresholds; {rules_stance} (no hand labels to fit a blend on).")
    line = f"a logistic blend of model scores and rule votes fitted on {blend.get('fitted_on', 0)} validation articles"
    if blend.get("stance_kind") == "rules_first":
        return f"{line}; {rules_stance} (`stance_blend: rules_first`)."
    return line + "."


def threshold_line(cfg: dict) -> str:
    """Which topics' thresholds were tuned on the validation split and which fell back to 0.5."""
    calib = cfg.get("calibration") or {}
    topics = list(cfg["thresholds"])
    if "tuned_thresholds" not in calib:
        return "No threshold was tuned (no validation split to tune on): every topic's is 0.5."
    tuned = [t for t in topics if t in calib["tuned_thresholds"]]
    fallback = [t for t in topics if t not in tuned]
    if (cfg.get("blend") or {}).get("kind") == "rules_first":  # set whatever tune_thresholds says
        return (f"No threshold was tuned (`rule_blend: rules_first`): every topic's is "
                f"{cfg['blend'].get('model_alone_p')}, the probability the model needs to add a topic alone.")
    if not cfg["train_config"].get("tune_thresholds", True):
        return "No threshold was tuned (`tune_thresholds: false`): every topic's is 0.5."
    need = calib.get("min_positives_for_threshold")
    parts = [f"Tuned on the validation split (the best F1): {', '.join(tuned) or 'none'}."]
    if fallback:
        parts.append(f"Fell back to 0.5 (fewer than {need} validation positives): {', '.join(fallback)}.")
    return " ".join(parts)


def hub_metadata(cfg: dict, metrics: dict, license: str) -> dict:
    """The Hub's YAML header: what the model is, and its test figures as a ``model-index``."""
    meta = {"license": license, "base_model": cfg["base_model"], "pipeline_tag": "text-classification",
            "library_name": "newstag", "language": ["en"], "tags": TAGS, "metrics": ["f1", "accuracy"]}
    if metrics:
        data = {"type": cfg.get("data") or "newstag-dataset", "name": cfg.get("data") or "newstag dataset",
                "split": "test"}
        meta["model-index"] = [{"name": cfg["model_name"], "results": [
            {"task": {"type": "text-classification", "name": "Topic tagging (multi-label)"}, "dataset": dict(data),
             "metrics": [{"type": "f1", "name": "Topic micro-F1", "value": round(metrics["topic_micro_f1"], 4)},
                         {"type": "f1", "name": "Topic macro-F1", "value": round(metrics["topic_macro_f1"], 4)}]},
            {"task": {"type": "text-classification", "name": "Stance"}, "dataset": dict(data),  # no YAML alias
             "metrics": [{"type": "accuracy", "name": "Stance accuracy", "value": round(metrics["stance_accuracy"], 4)},
                         {"type": "f1", "name": "Stance macro-F1", "value": round(metrics["stance_macro_f1"], 4)}]},
        ]}]
    return meta


def base_license(base_dir: str | Path) -> str | None:
    """The license a base model's own card (``README.md`` with a YAML header) states, or None."""
    card = Path(base_dir) / "README.md"
    try:
        text = card.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---"):
        return None
    try:
        header = yaml.safe_load(text.split("---", 2)[1])
    except yaml.YAMLError:
        return None
    value = header.get("license") if isinstance(header, dict) else None
    return str(value) if value else None
