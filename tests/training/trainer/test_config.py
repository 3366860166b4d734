"""Training config: YAML files and --key value overrides, with one clear error per bad key or value."""

from __future__ import annotations

import pytest

from inference import NewstagError
from training.trainer.config import TrainConfig, load_config


def test_config_file_unknown_key_names_it(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("epochs: 2\nlearning_rat: 0.001\n", encoding="utf-8")
    with pytest.raises(NewstagError) as info:
        load_config(str(path), [])
    assert str(info.value).startswith(f"{path}: unknown key 'learning_rat'; known keys: base_model, ")


def test_config_override_unknown_key_names_it():
    with pytest.raises(NewstagError, match=r"^unknown option --epochz; known keys: "):
        load_config(None, ["--epochz", "3"])


def test_config_override_bad_value_and_missing_value():
    with pytest.raises(NewstagError, match=r"^epochs: 'many' is not a valid float"):
        load_config(None, ["--epochs", "many"])
    with pytest.raises(NewstagError, match=r"^--epochs needs a value"):
        load_config(None, ["--epochs"])
    with pytest.raises(NewstagError, match=r"^group_by_length: 'maybe' is not a valid bool"):
        load_config(None, ["--group_by_length", "maybe"])


def test_config_file_and_overrides(tmp_path, repo_root):
    cfg = load_config(str(repo_root / "configs" / "train.yaml"), ["--epochs=2", "--max-length", "128",
                                                                  "--group_by_length", "false"])
    assert isinstance(cfg, TrainConfig)
    assert (cfg.epochs, cfg.max_length, cfg.group_by_length) == (2.0, 128, False)
    gpu = load_config(str(repo_root / "configs" / "train-gpu.yaml"), [])
    assert gpu.batch_size == 64 and gpu.bf16 == "true"
    assert gpu.learning_rate == TrainConfig().learning_rate  # a GPU config changes only what must change


def test_repo_train_yaml_is_the_builtin_defaults(repo_root):
    assert load_config(str(repo_root / "configs" / "train.yaml"), []) == TrainConfig()


