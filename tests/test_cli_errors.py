"""Each command, given bad input, returns 2 and prints exactly one line 'newstag-xxx: error: ...', no traceback."""

from __future__ import annotations

import importlib

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def one_error_line(capsys, prog: str) -> str:
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err and "Traceback" not in captured.out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    return lines[0]


def test_build_missing_input(tmp_path, capsys, monkeypatch, repo_root):
    from training.build import main

    monkeypatch.chdir(repo_root)  # the default --labels is configs/labels.yaml
    missing = tmp_path / "no_such_pages"
    assert main([str(missing), "-o", str(tmp_path / "ds")]) == 2
    line = one_error_line(capsys, "newstag-build")
    assert line == (f"newstag-build: error: input {missing} does not exist; "
                    "pass existing files, directories or globs")
    assert not (tmp_path / "ds").exists()


def test_build_missing_labels_file(tmp_path, capsys, repo_root):
    from training.build import main

    labels = tmp_path / "labels.yaml"
    assert main([str(repo_root / "data" / "sample" / "pages"), "-o", str(tmp_path / "ds"), "--labels", str(labels)]) == 2
    assert f"labels file {labels} not found" in one_error_line(capsys, "newstag-build")


@pytest.mark.parametrize(("flag", "value", "needle"), [
    ("--fractions", "0.5,0.5", "--fractions '0.5,0.5' must be three non-negative numbers summing to 1"),
    ("--column", "body", "--column 'body' is not FIELD=NAME"),
])
def test_build_bad_options(tmp_path, capsys, monkeypatch, repo_root, flag, value, needle):
    from training.build import main

    monkeypatch.chdir(repo_root)
    assert main(["data/sample/pages", "-o", str(tmp_path / "ds"), flag, value]) == 2
    assert needle in one_error_line(capsys, "newstag-build")


def test_build_where_every_record_is_skipped(tmp_path, capsys, monkeypatch, repo_root):
    from training.build import main

    monkeypatch.chdir(repo_root)
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    out = tmp_path / "ds"
    assert main([str(tmp_path / "empty.txt"), "-o", str(out), "--no-plots"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert f"newstag-build: error: no article could be read from the inputs (all skipped: {tmp_path / 'empty.txt'}: " \
           "empty page); check the inputs" in captured.err
    assert not out.exists()


def test_train_not_a_dataset_folder(tmp_path, capsys):
    from training.train import main

    folder = tmp_path / "not_a_dataset"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    assert main(["--data", str(folder), "-o", str(tmp_path / "model")]) == 2
    line = one_error_line(capsys, "newstag-train")
    assert line == (f"newstag-train: error: {folder} is not a newstag dataset folder (no dataset_dict.json and "
                    "schema.json); pass the folder written by newstag-build -o")
    assert not (tmp_path / "model").exists()


def test_train_unknown_option(tmp_path, capsys):
    from training.train import main

    assert main(["--data", str(tmp_path), "-o", str(tmp_path / "model"), "--epochz", "3"]) == 2
    assert "unknown option --epochz" in one_error_line(capsys, "newstag-train")


def test_train_missing_config_file(tmp_path, capsys):
    from training.train import main

    assert main(["--data", str(tmp_path), "-o", str(tmp_path / "m"), "--config", str(tmp_path / "c.yaml")]) == 2
    assert f"config file {tmp_path / 'c.yaml'} not found" in one_error_line(capsys, "newstag-train")


def test_eval_not_a_model_folder(tmp_path, capsys):
    from training.evaluate import main

    folder = tmp_path / "not_a_model"
    folder.mkdir()
    assert main([str(folder), str(tmp_path)]) == 2
    line = one_error_line(capsys, "newstag-eval")
    assert line.startswith(f"newstag-eval: error: {folder} is not a newstag model folder (no tagger.json and "
                           "model.safetensors)")


def test_eval_not_a_dataset_folder(trained_model, tmp_path, capsys):
    from training.evaluate import main

    assert main([str(trained_model), str(tmp_path)]) == 2
    assert "is not a newstag dataset folder" in one_error_line(capsys, "newstag-eval")


def test_tag_not_a_model_folder(tmp_path, capsys, repo_root):
    from inference.tag import main

    folder = tmp_path / "not_a_model"
    folder.mkdir()
    page = repo_root / "data" / "sample" / "pages" / "a01_libya_italy_coastguard.txt"
    assert main([str(page), "--model", str(folder), "-o", str(tmp_path / "tags.jsonl")]) == 2
    assert "is not a newstag model folder" in one_error_line(capsys, "newstag-tag")
    assert not (tmp_path / "tags.jsonl").exists()


def test_console_scripts_point_at_main_functions(repo_root):
    scripts = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {"newstag-build", "newstag-train", "newstag-eval", "newstag-tag", "newstag-serve", "newstag-export",
                            "newstag-review"}
    for name, target in scripts.items():
        module, _, func = target.partition(":")
        main = getattr(importlib.import_module(module), func)
        assert callable(main), name
