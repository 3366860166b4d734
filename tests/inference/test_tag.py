"""newstag-tag: output per article, resume after a crash, refusal to mix models, bad records on the side."""

import json
import shutil

from conftest import SAMPLE

from inference.tag import main

FEED = str(SAMPLE / "feeds" / "wire_feed.jsonl")


def _lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_tags_every_record_and_sets_bad_ones_aside(tmp_path, trained_model):
    out = tmp_path / "tags.jsonl"
    assert main([FEED, "--model", str(trained_model), "-o", str(out)]) == 0
    rows = _lines(out)
    assert len(rows) == 31  # 32 feed lines, one truncated
    assert {"id", "topics", "topic_scores", "stance", "stance_probs", "evidence", "model_id"} <= set(rows[0])
    errors = _lines(tmp_path / "tags.errors.jsonl")
    assert errors == [{"path": FEED, "line": 16, "reason": errors[0]["reason"]}]
    assert "not valid JSON" in errors[0]["reason"]


def test_rerun_after_a_crash_finishes_without_duplicates(tmp_path, trained_model):
    out = tmp_path / "tags.jsonl"
    assert main([FEED, "--model", str(trained_model), "-o", str(out), "--limit", "10"]) == 0
    first = _lines(out)
    assert len(first) == 10
    with out.open("a", encoding="utf-8") as f:  # a crash cut the next line in half
        f.write('{"id": "cut-in-half", "top')
    assert main([FEED, "--model", str(trained_model), "-o", str(out)]) == 0
    rows = _lines(out)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 31
    assert rows[:10] == first


def test_output_of_another_model_is_refused(tmp_path, trained_model, capsys):
    out = tmp_path / "tags.jsonl"
    assert main([FEED, "--model", str(trained_model), "-o", str(out), "--limit", "3"]) == 0
    other = tmp_path / "other"
    shutil.copytree(trained_model, other)
    cfg = json.loads((other / "tagger.json").read_text())
    cfg["model_version"] = "2"
    (other / "tagger.json").write_text(json.dumps(cfg))
    before = out.read_bytes()
    capsys.readouterr()  # the first run's progress bar
    assert main([FEED, "--model", str(other), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds results of another model" in err[0]
    assert out.read_bytes() == before


def test_csv_output_and_threshold_override(tmp_path, trained_model):
    out = tmp_path / "tags.csv"
    assert main([FEED, "--model", str(trained_model), "-o", str(out), "--threshold", "ceasefire=0",
                 "--limit", "5"]) == 0
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 5 and all("ceasefire" in r["topics"].split(";") for r in rows)


def test_unknown_topic_in_threshold_fails(tmp_path, trained_model, capsys):
    assert main([FEED, "--model", str(trained_model), "-o", str(tmp_path / "t.jsonl"), "--threshold", "nope=0.3"]) == 2
    assert "unknown topic 'nope'" in capsys.readouterr().err
