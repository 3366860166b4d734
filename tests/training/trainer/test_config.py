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




@pytest.mark.parametrize(("flags", "message"), [
    (["--bf16", "maybe"], "bf16: 'maybe' is not one of auto, true, false"),
    (["--weak_confidence", "softtargets"], "weak_confidence: 'softtargets' is not one of none, soft_targets, sample_weight"),
    (["--topic-pos-weight", "Auto"], "topic_pos_weight: 'Auto' is not one of auto, none"),
    (["--head_init=probes"], "head_init: 'probes' is not one of probe, probe_topics, random"),
    (["--resume", "always"], "resume: 'always' is not one of auto, never"),
])
def test_config_unknown_value_lists_the_allowed_ones(flags, message):
    with pytest.raises(NewstagError) as info:
        load_config(None, flags)
    assert str(info.value) == message


@pytest.mark.parametrize(("flags", "message"), [
    (["--epochs", "-3"], "epochs: -3.0 must be at least 0"),
    (["--epochs", "nan"], "epochs: nan must be at least 0"),
    (["--batch-size", "0"], "batch_size: 0 must be at least 1"),
    (["--dropout=1.5"], "dropout: 1.5 must be at least 0 and below 1"),
    (["--max_steps", "0"], "max_steps: 0 must be -1 (off) or at least 1"),
    (["--learning_rate", "0"], "learning_rate: 0.0 must be above 0"),
])
def test_config_numbers_out_of_range_say_the_range(flags, message):
    with pytest.raises(NewstagError) as info:
        load_config(None, flags)
    assert str(info.value) == message


def test_config_unknown_key_suggests_the_nearest_one(tmp_path):
    with pytest.raises(NewstagError, match=r"; did you mean --epochs\?$"):
        load_config(None, ["--epoch", "3"])  # no prefix matching: a near miss is an error, not --epochs
    with pytest.raises(NewstagError, match=r"^unknown option --topic-pos-weigth; .*; did you mean --topic-pos-weight\?$"):
        load_config(None, ["--topic-pos-weigth=none"])
    path = tmp_path / "train.yaml"
    path.write_text("learning_rat: 0.001\n", encoding="utf-8")
    with pytest.raises(NewstagError, match=r"; did you mean 'learning_rate'\?$"):
        load_config(str(path), [])


@pytest.mark.parametrize(("yaml_text", "message"), [
    ("bf16: maybe\n", "bf16: 'maybe' is not one of auto, true, false"),
    ("topic_pos_weight: Auto\n", "topic_pos_weight: 'Auto' is not one of auto, none"),
    ("epochs: -3\n", "epochs: -3.0 must be at least 0"),
    ("max_length: 25.5\n", "max_length: '25.5' is not a valid int"),
    ("group_by_length: maybe\n", "group_by_length: 'maybe' is not a valid bool (true or false)"),
    ("seed:\n", "seed: needs one value (a number, true/false or a word), not None"),
])
def test_config_file_values_are_checked_like_flags(tmp_path, yaml_text, message):
    path = tmp_path / "train.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(NewstagError) as info:
        load_config(str(path), [])
    assert str(info.value) == f"{path}: {message}"


def test_config_file_values_typed_and_overridden(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("bf16: true\nepochs: 3\ngroup_by_length: false\nhead_init: random\n", encoding="utf-8")
    cfg = load_config(str(path), ["--epochs", "2"])  # the flag wins over the file
    assert (cfg.bf16, cfg.epochs, cfg.group_by_length, cfg.head_init) == ("true", 2.0, False, "random")
    assert load_config(str(path), ["--group-by-length"]).group_by_length is True  # a bare switch is true


def test_both_flag_spellings_set_the_same_key():
    for flag in ("--topic_pos_weight", "--topic-pos-weight"):
        assert load_config(None, [flag, "none"]).topic_pos_weight == "none"
        assert load_config(None, [f"{flag}=none"]).topic_pos_weight == "none"
