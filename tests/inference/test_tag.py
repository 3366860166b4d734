"""newstag-tag: output per article, resume after a crash, refusal to mix models, bad records on the side."""

import json
import shutil

from conftest import SAMPLE

from inference.readers import read_inputs
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


def test_rerun_does_not_repeat_bad_records_in_the_errors_file(tmp_path, trained_model):
    out = tmp_path / "tags.jsonl"
    assert main([FEED, "--model", str(trained_model), "-o", str(out)]) == 0
    errors = (tmp_path / "tags.errors.jsonl").read_text(encoding="utf-8")
    assert main([FEED, "--model", str(trained_model), "-o", str(out)]) == 0
    assert (tmp_path / "tags.errors.jsonl").read_text(encoding="utf-8") == errors
    assert len(_lines(out)) == 31


def test_a_record_that_fails_tagging_is_set_aside_and_the_run_goes_on(tmp_path, trained_model, monkeypatch):
    from inference.tagger import Tagger

    feed = [json.loads(x) for x in open(FEED, encoding="utf-8") if x.strip().endswith("}")]
    poison = feed[3]["id"]
    real = Tagger.predict

    def predict(self, texts, **kwargs):
        if any(text == feed[3]["text"] for _, text in texts):
            raise RuntimeError("simulated failure")
        return real(self, texts, **kwargs)

    monkeypatch.setattr(Tagger, "predict", predict)
    out = tmp_path / "tags.jsonl"
    assert main([FEED, "--model", str(trained_model), "-o", str(out)]) == 0
    ids = [r["id"] for r in _lines(out)]
    assert poison not in ids and len(ids) == 30
    errors = _lines(tmp_path / "tags.errors.jsonl")
    assert [e for e in errors if e.get("id") == poison][0]["reason"] == "tagging failed: RuntimeError: simulated failure"


PASTED = ("The Harbour Courier has covered the coastal provinces since 1961 from its newsroom in Port Elm. "
          "Readers can reach the desk through the contact form on our website at any time.")


def _pasted_feed(path):
    stories = [("Ferry strike ends after two days", "Dock workers returned to the ferries on Monday after a deal. "
                "The union called the offer fair. Timetables are back to normal."),
               ("Truce holds along the river", "A truce agreed on Sunday held through the night, monitors said. "
                "Both sides reported no shooting. Talks resume on Friday."),
               ("Border crossing reopens for aid", "Aid trucks crossed into the valley for the first time in weeks. "
                "Forty trucks carried flour and medicine. More are due tomorrow."),
               ("Students march in the capital", "Thousands of students marched to parliament against fee rises. "
                "Police said the march was peaceful. Organisers plan another next week.")]
    with path.open("w", encoding="utf-8") as f:
        for k, (title, text) in enumerate(stories):
            f.write(json.dumps({"id": f"s{k}", "title": title, "text": f"{text}\n{PASTED}"}) + "\n")
    return str(path)


def _texts_seen(monkeypatch):
    from inference.tagger import Tagger

    seen, real = [], Tagger.predict

    def predict(self, texts, **kwargs):
        seen.extend(text for _, text in texts)
        return real(self, texts, **kwargs)

    monkeypatch.setattr(Tagger, "predict", predict)
    return seen


def test_boilerplate_of_the_inputs_is_learned_and_stripped(tmp_path, trained_model, monkeypatch):
    feed = _pasted_feed(tmp_path / "feed.jsonl")
    seen = _texts_seen(monkeypatch)
    assert main([feed, "--model", str(trained_model), "-o", str(tmp_path / "a.jsonl")]) == 0
    assert len(seen) == 4 and not any("Harbour Courier" in t for t in seen)
    assert all(t.startswith(("Dock", "A truce", "Aid", "Thousands")) for t in seen)
    seen.clear()
    assert main([feed, "--model", str(trained_model), "-o", str(tmp_path / "b.jsonl"), "--boilerplate-sample", "0"]) == 0
    assert len(seen) == 4 and all("Harbour Courier" in t for t in seen)


def test_inputs_are_read_once_with_boilerplate_learning(tmp_path, trained_model, monkeypatch):
    """The boilerplate sample is taken from the tagging stream itself: each record is read once, tagged once."""
    import inference.tag as tag

    feed = _pasted_feed(tmp_path / "feed.jsonl")
    seen = _texts_seen(monkeypatch)
    yielded = []

    def counting(*args, **kwargs):
        for item in read_inputs(*args, **kwargs):
            yielded.append(item)
            yield item

    monkeypatch.setattr(tag, "read_inputs", counting)
    for sample in ("2", "2000"):  # a sample shorter than the inputs, and one longer
        yielded.clear(), seen.clear()
        out = tmp_path / f"s{sample}.jsonl"
        assert main([feed, "--model", str(trained_model), "-o", str(out), "--boilerplate-sample", sample]) == 0
        assert len(yielded) == 4 and len(seen) == 4
        assert len({json.loads(line)["id"] for line in out.read_text().splitlines()}) == 4


def test_int8_and_bf16_together_are_refused(tmp_path, trained_model, capsys):
    assert main([FEED, "--model", str(trained_model), "-o", str(tmp_path / "t.jsonl"), "--int8", "--bf16"]) == 2
    assert capsys.readouterr().err.strip() == "newstag-tag: error: --int8 and --bf16 exclude each other; pick one"
