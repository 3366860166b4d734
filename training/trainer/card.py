"""The model card (the model folder's ``README.md``), written from the manifest and the training summary."""

from __future__ import annotations

import json
from pathlib import Path


def model_card(out: Path, cfg: dict, summary: dict) -> str:
    """The model folder's README: base model, data, config, metrics, thresholds, intended use and limits.

    Args:
        out: the model folder (as the user named it, for the usage example).
        cfg: the manifest (``tagger.json``), calibrated.
        summary: what ``train_metrics.json`` holds (``linear_probe``, ``test`` metrics...).
    """
    metrics = summary.get("test") or {}
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
    return "\n".join(lines) + "\n"
