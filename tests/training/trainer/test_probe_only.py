"""newstag-train with epochs 0 on weak labels only: the heads are the linear probe on the untouched base encoder,
and the tagger gives the union of the rules' and the model's topics."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

from tests.conftest import run_build


def test_epochs_zero_keeps_the_base_encoder_and_blends_by_union(tmp_path, tiny_base, capsys, repo_root):
    from inference import Tagger
    from training.train import main

    data, out = tmp_path / "weak", tmp_path / "model"
    assert run_build(data) == 0  # no --gold: weak labels only
    # configs/train-weak.yaml (epochs 0, rule_blend union) with a tiny base and short windows
    assert main(["--data", str(data), "-o", str(out), "--config", str(repo_root / "configs" / "train-weak.yaml"),
                 "--base_model", str(tiny_base), "--max_length", "64", "--stride", "16", "--bf16", "false"]) == 0
    assert "these are the model's heads (epochs 0: no fine-tuning)" in capsys.readouterr().err
    base = load_file(tiny_base / "model.safetensors")
    mine = load_file(out / "model.safetensors")
    shared = [k for k in mine if k.startswith("encoder.") and k.removeprefix("encoder.") in base]
    assert len(shared) > 10
    for k in shared:
        assert torch.equal(mine[k], base[k.removeprefix("encoder.")]), k
    summary = json.loads((out / "train_metrics.json").read_text())
    assert summary["linear_probe"]["heads"] == ["topic", "stance"]
    assert summary["train"]["probe_only"] is True
    cfg = json.loads((out / "tagger.json").read_text())
    assert cfg["blend"]["kind"] == "union"

    tagger = Tagger.from_pretrained(out, device="cpu")
    text = ("Government forces and rebels agreed a 72-hour ceasefire on Sunday, mediators said. The truce held "
            "overnight in the north, residents said.")
    result = tagger.predict([("Truce agreed in the north", text)])[0]
    assert "ceasefire" in result.topic_names  # the rules give it, whatever a random tiny encoder scores
    tag = next(t for t in result.topics if t.name == "ceasefire")
    assert tag.score >= 0.99 and tag.rules


def test_rules_first_sets_every_threshold_to_the_models_bar_and_says_so(tmp_path, tiny_base):
    from inference import Tagger
    from inference.blend import MODEL_ALONE_P
    from training.train import main

    data, out = tmp_path / "weak", tmp_path / "model"
    assert run_build(data) == 0
    assert main(["--data", str(data), "-o", str(out), "--base_model", str(tiny_base), "--epochs", "0",
                 "--max_length", "64", "--stride", "16", "--bf16", "false", "--rule_blend", "rules_first"]) == 0
    cfg = json.loads((out / "tagger.json").read_text())
    assert cfg["blend"]["kind"] == "rules_first"
    assert set(cfg["thresholds"].values()) == {MODEL_ALONE_P}
    card = (out / "README.md").read_text()
    assert "rules first: a topic the rules give is given" in card and "`rule_blend: rules_first`" in card
    tagger = Tagger.from_pretrained(out, device="cpu")
    text = ("Government forces and rebels agreed a 72-hour ceasefire on Sunday, mediators said. The truce held "
            "overnight in the north, residents said.")
    result = tagger.predict([("Truce agreed in the north", text), ("Markets", "Shares rose two percent on Monday.")])
    assert "ceasefire" in result[0].topic_names and next(t for t in result[0].topics).rules
    # a random tiny encoder is never sure: where the rules give nothing, nothing is given and the stance is neutral
    assert result[1].topic_names == [] and result[1].stance == "neutral"
