"""Each command's --help: plain text (no RST markup), one flag style (--kebab-case), defaults shown."""

from __future__ import annotations

import importlib
import re

import pytest


def help_of(module: str, capsys) -> str:
    with pytest.raises(SystemExit) as info:
        importlib.import_module(module).main(["--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(("module", "shown"), [
    ("training.build", ["--near-duplicate-threshold X", "(default: 0.45)", "(default: configs/labels.yaml)",
                        "--split-by-date"]),
    ("training.train", ["--topic-pos-weight {auto,none}", "--weak-confidence {none,soft_targets,sample_weight}",
                        "--epochs X", "(default: 4.0)", "--group-by-length [BOOL]"]),
    ("training.evaluate", ["--batch-size N", "(default: 64)", "(default: test)"]),
    ("training.review", ["--near X", "(default: 0.3)", "(default: 127.0.0.1)", "--no-cache"]),
    ("inference.tag", ["--boilerplate-sample N", "(default: 2000)", "--batch-size N", "(default: 32)"]),
])
def test_help_is_plain_text_with_defaults_and_one_flag_style(module, shown, capsys):
    text = help_of(module, capsys)
    assert "``" not in text
    flags = [line for line in text.splitlines() if "spelling" not in line]
    assert not [f for line in flags for f in re.findall(r"--[a-z0-9]+_[a-z0-9_]+", line)]
    words = " ".join(text.split())  # argparse wraps lines
    for needle in shown:
        assert needle in words, needle
