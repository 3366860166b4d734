"""The model card: the Hub's YAML header, which thresholds were tuned, no path of the training machine."""

from __future__ import annotations

import json

import yaml

from training.trainer.card import base_license, hub_metadata, threshold_line


def _header(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---", 2)[1])


def test_the_card_opens_with_the_hub_metadata(trained_model, tiny_base):
    readme = (trained_model / "README.md").read_text()
    meta = _header(readme)
    metrics = json.loads((trained_model / "metrics.json").read_text())
    assert meta["license"] == "other"  # the tiny base model's folder has no card to take a license from
    assert meta["base_model"] == tiny_base.name and meta["pipeline_tag"] == "text-classification"
    assert meta["language"] == ["en"] and "newstag" in meta["tags"] and set(meta["metrics"]) == {"f1", "accuracy"}
    results = meta["model-index"][0]["results"]
    assert [r["task"]["name"] for r in results] == ["Topic tagging (multi-label)", "Stance"]
    got = {m["name"]: m["value"] for r in results for m in r["metrics"]}
    assert got == {"Topic micro-F1": round(metrics["topic_micro_f1"], 4),
                   "Topic macro-F1": round(metrics["topic_macro_f1"], 4),
                   "Stance accuracy": round(metrics["stance_accuracy"], 4),
                   "Stance macro-F1": round(metrics["stance_macro_f1"], 4)}
    assert 'pipeline("newstag", model=' in readme and "&id" not in readme.split("---", 2)[1]  # no YAML alias


def test_no_path_of_the_training_machine_in_the_card_or_the_manifest(trained_model, tiny_base, sample_dataset):
    for name in ("README.md", "tagger.json", "config.json"):
        text = (trained_model / name).read_text()
        for path in (tiny_base, sample_dataset, trained_model):
            assert str(path.parent) not in text, (name, path)
    manifest = json.loads((trained_model / "tagger.json").read_text())
    assert manifest["base_model"] == manifest["train_config"]["base_model"] == tiny_base.name
    assert manifest["data"] == sample_dataset.name


def test_the_card_says_which_thresholds_were_tuned_and_which_fell_back(trained_model, sample_dataset):
    from datasets import load_from_disk

    manifest = json.loads((trained_model / "tagger.json").read_text())
    need = manifest["train_config"]["min_positives_for_threshold"]
    val = load_from_disk(str(sample_dataset))["validation"]
    positives = {t: sum(t in row["topics"] for row in val) for t in manifest["topics"]}
    tuned = [t for t in manifest["topics"] if positives[t] >= need]
    fallback = [t for t in manifest["topics"] if positives[t] < need]
    assert manifest["calibration"]["tuned_thresholds"] == tuned
    assert all(manifest["thresholds"][t] == 0.5 for t in fallback)
    line = threshold_line(manifest)
    assert line.startswith(f"Tuned on the validation split (the best F1): {', '.join(tuned) or 'none'}.")
    if fallback:
        assert line.endswith(f"Fell back to 0.5 (fewer than {need} validation positives): {', '.join(fallback)}.")
    assert line in (trained_model / "README.md").read_text()


def test_threshold_line_without_a_validation_split_or_with_tuning_off():
    cfg = {"thresholds": {"a": 0.5, "b": 0.5}, "train_config": {"tune_thresholds": True}}
    assert threshold_line(cfg) == "No threshold was tuned (no validation split to tune on): every topic's is 0.5."
    cfg = {**cfg, "train_config": {"tune_thresholds": False},
           "calibration": {"tuned_thresholds": [], "min_positives_for_threshold": 10}}
    assert threshold_line(cfg) == "No threshold was tuned (`tune_thresholds: false`): every topic's is 0.5."


def test_metadata_without_test_metrics_has_no_model_index():
    meta = hub_metadata({"base_model": "sentence-transformers/all-MiniLM-L6-v2", "model_name": "m"}, {}, "mit")
    assert meta["license"] == "mit" and "model-index" not in meta


def test_the_license_comes_from_the_base_models_card(tmp_path):
    from inference.model import default_base_model

    assert base_license(default_base_model()) == "apache-2.0"  # the bundled all-MiniLM-L6-v2's card
    (tmp_path / "README.md").write_text("# no header\n", encoding="utf-8")
    assert base_license(tmp_path) is None and base_license(tmp_path / "absent") is None


def test_threshold_line_under_rules_first_gives_the_models_bar_even_with_tuning_off():
    blend = {"kind": "rules_first", "model_alone_p": 0.99}
    cfg = {"thresholds": {"a": 0.99}, "train_config": {"tune_thresholds": False}, "blend": blend,
           "calibration": {"tuned_thresholds": [], "min_positives_for_threshold": 30}}
    assert threshold_line(cfg) == ("No threshold was tuned (`rule_blend: rules_first`): every topic's is 0.99, the "
                                   "probability the model needs to add a topic alone.")
