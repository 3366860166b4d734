"""newstag-train with the tiny base model: the saved model folder, and newstag-eval on it."""

from __future__ import annotations

import json

PNG = b"\x89PNG\r\n\x1a\n"


def test_model_folder_describes_itself(trained_model, sample_dataset):
    for name in ("tagger.json", "model.safetensors", "config.json", "README.md", "metrics.json", "report.md",
                 "train_metrics.json"):
        assert (trained_model / name).is_file(), name
    pngs = sorted(p.name for p in trained_model.glob("*.png"))
    assert pngs == ["per_topic.png", "pr_curves.png", "reliability.png", "stance_confusion.png"]
    for p in trained_model.glob("*.png"):
        assert p.read_bytes()[:8] == PNG, p.name
    assert not (trained_model / "checkpoints").exists()
    cfg = json.loads((trained_model / "tagger.json").read_text())
    schema = json.loads((sample_dataset / "schema.json").read_text())
    assert cfg["format"] == "newstag-tagger"
    assert cfg["topics"] == [t["name"] for t in schema["topics"]]
    assert cfg["stances"] == [s["name"] for s in schema["stances"]]
    assert (cfg["max_length"], cfg["stride"]) == (64, 16)
    assert cfg["train_config"]["epochs"] == 1.0
    assert cfg["data_fingerprint"] == json.loads((sample_dataset / "fingerprint.json").read_text())["fingerprint"]
    assert set(cfg["thresholds"]) == set(cfg["topics"])
    assert cfg["temperature"]["topic"] > 0 and cfg["temperature"]["stance"] > 0
    assert cfg["boilerplate"] == json.loads((sample_dataset / "boilerplate.json").read_text())
    readme = (trained_model / "README.md").read_text()
    assert "Tagger.from_pretrained" in readme and "## Test metrics" in readme
    metrics = json.loads((trained_model / "metrics.json").read_text())
    assert metrics["split"] == "test"
    for key in ("topic_micro_f1", "topic_macro_f1", "stance_accuracy", "stance_macro_f1"):
        assert 0.0 <= metrics[key] <= 1.0


def test_eval_main_writes_metrics(trained_model, sample_dataset, tmp_path, capsys):
    from datasets import load_from_disk

    from training.evaluate import main

    out = tmp_path / "eval"
    assert main([str(trained_model), str(sample_dataset), "--split", "validation", "-o", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "validation"
    assert metrics["examples"] == len(load_from_disk(str(sample_dataset))["validation"])
    assert set(metrics["per_topic"]) == set(json.loads((trained_model / "tagger.json").read_text())["topics"])
    assert len(metrics["stance_confusion"]) == 3
    assert sum(map(sum, metrics["stance_confusion"])) == metrics["examples"]
    assert metrics["gold"]["examples"] > 0  # the sample has hand labels: model and rules side by side
    assert set(metrics["gold"]) == {"examples", "model", "weak_labels"}
    assert (out / "report.md").is_file()
    assert (out / "stance_confusion.png").read_bytes()[:8] == PNG
    assert "newstag-eval: validation (" in capsys.readouterr().out


def test_eval_main_unknown_split(trained_model, sample_dataset, capsys):
    from training.evaluate import main

    assert main([str(trained_model), str(sample_dataset), "--split", "dev"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"newstag-eval: error: {sample_dataset} has no split 'dev'; splits: train, validation, test")


def test_attention_dropout_is_off_by_default_for_the_fused_attention_kernel(trained_model):
    cfg = json.loads((trained_model / "config.json").read_text())["encoder_config"]
    assert cfg["attention_probs_dropout_prob"] == 0.0 and cfg["hidden_dropout_prob"] == 0.1
    assert json.loads((trained_model / "tagger.json").read_text())["train_config"]["attention_dropout"] == 0.0


def test_training_output_off_a_terminal_is_a_table(sample_dataset, tiny_base, tmp_path, capfd):
    """Off a terminal: no progress bars, no log dicts; a header, one row per epoch and a summary."""
    from training.train import main

    rc = main(["--data", str(sample_dataset), "-o", str(tmp_path / "model"), "--base-model", str(tiny_base),
               "--epochs", "3", "--max-length", "32", "--stride", "8", "--bf16", "false", "--head-init", "random",
               "--early-stopping-patience", "0"])
    assert rc == 0
    out, err = capfd.readouterr()
    text = out + err
    assert "\r" not in text and "\x1b[" not in text and "{'" not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) <= 10, text  # header, 3 rows, summary, the result line, and warnings at most 4
    header = out.splitlines().index(next(line for line in out.splitlines() if line.startswith("epoch  train loss")))
    rows = out.splitlines()[header + 1:header + 4]
    assert [row.split()[0] for row in rows] == ["1", "2", "3"], out
    assert any(line.startswith("newstag-train: kept epoch ") and "trained 3 epochs in " in line for line in lines), out
    assert lines[-1].startswith(f"newstag-train: wrote {tmp_path / 'model'}; test topic micro-F1 "), out


def test_report_confusion_table_names_its_rows(trained_model):
    stances = json.loads((trained_model / "tagger.json").read_text())["stances"]
    report = (trained_model / "report.md").read_text()
    assert "| true / predicted | " + " | ".join(stances) + " |" in report
    rows = [line for line in report.splitlines() if line.startswith("| ") and line.split(" | ")[0][2:] in stances]
    assert [r.split(" | ")[0][2:] for r in rows] == stances
