"""Readers: bad inputs either fail with one clear error or come out as Skip items while the run goes on."""

from __future__ import annotations

import csv
import json

import pytest

from inference.errors import NewstagError
from inference.readers import Record, Skip, expand_inputs, read_inputs

BODY = "The two armies agreed to a truce on Sunday, officials said. Talks resume on Monday."


def read(*paths, **kwargs):
    return list(read_inputs([str(p) for p in paths], **kwargs))


def test_missing_path_fails_naming_it(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(NewstagError, match="does not exist") as info:
        read(missing)
    assert str(missing) in str(info.value)


def test_glob_matching_nothing_fails(tmp_path):
    with pytest.raises(NewstagError, match="no file matches"):
        expand_inputs([str(tmp_path / "*.jsonl")])


def test_folder_without_readable_files_fails(tmp_path):
    (tmp_path / "notes.md").write_text("hello", encoding="utf-8")
    with pytest.raises(NewstagError, match="no readable input found"):
        expand_inputs([str(tmp_path)])


def test_expand_inputs_is_sorted_recursive_and_honours_exclude(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.txt", "a.jsonl", "b/1.csv", "labels.jsonl", "skip.md"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files = expand_inputs([str(tmp_path)], exclude=[tmp_path / "labels.jsonl"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.jsonl", "b/1.csv", "b/2.txt"]


@pytest.mark.parametrize(("name", "reason"), [("page.txt", "empty page"), ("feed.jsonl", "empty file"),
                                               ("feed.csv", "empty file")])
def test_empty_file_is_skipped(tmp_path, name, reason):
    path = tmp_path / name
    path.write_text("  \n\n", encoding="utf-8")
    (item,) = read(path)
    assert isinstance(item, Skip)
    assert "empty" in item.reason
    assert item.reason == reason
    assert item.path == str(path)


def test_jsonl_line_not_json_is_skipped_with_its_line_number_and_the_run_goes_on(tmp_path):
    path = tmp_path / "feed.jsonl"
    lines = [json.dumps({"id": "a1", "title": "First", "text": BODY}),
             '{"id": "a2", "title": "Truncated", "text": "The two armies agr',
             "",
             json.dumps({"id": "a3", "title": "Third", "text": BODY}),
             json.dumps(["not", "an", "object"]),
             json.dumps({"id": "a5", "title": "No text"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = read(path)
    assert [type(i).__name__ for i in items] == ["Record", "Skip", "Record", "Skip", "Skip"]
    assert [r.id for r in items if isinstance(r, Record)] == ["a1", "a3"]
    bad, not_object, no_text = (i for i in items if isinstance(i, Skip))
    assert bad.line == 2
    assert bad.reason.startswith("line is not valid JSON (")
    assert str(bad).startswith(f"{path}:2: line is not valid JSON")
    assert (not_object.line, not_object.reason) == (5, "line is not a JSON object")
    assert (no_text.line, no_text.reason) == (6, "record has no text")


def test_csv_without_text_column_fails_naming_the_header_and_the_fix(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("guid,headline,summary\n1,Truce holds,Short\n", encoding="utf-8")
    with pytest.raises(NewstagError) as info:
        read(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: no text column")
    assert "the header has guid, headline, summary" in msg
    assert "--column text=NAME" in msg


def test_csv_with_a_column_override_that_is_absent_fails(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,body\n1,Text\n", encoding="utf-8")
    with pytest.raises(NewstagError, match="looked for story_text"):
        read(path, columns={"text": "story_text"})


def test_csv_column_aliases(tmp_path):
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["guid", "headline", "body", "link", "outlet", "date"])
        w.writerow(["g-1", "Truce holds in Aden", BODY + "\n\nSecond paragraph.", "https://x.example/1", "Wire",
                    "2025-05-07"])
        w.writerow(["", "", "Only a body, no headline or id.", "", "", ""])
    first, second = read(path)
    assert isinstance(first, Record) and isinstance(second, Record)
    assert (first.id, first.title, first.url, first.source, first.published) == (
        "g-1", "Truce holds in Aden", "https://x.example/1", "Wire", "2025-05-07")
    assert first.text == BODY + "\n\nSecond paragraph."
    assert second.title == "Only a body, no headline or id."  # the title falls back to the first line
    assert second.id and second.id != first.id
    assert second.source is None and second.url is None


def test_jsonl_aliases_and_column_override(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"uid": "u1", "heading": "Truce", "content": BODY, "story_text": "Other text."})
                    + "\n", encoding="utf-8")
    (rec,) = read(path)
    assert (rec.id, rec.title, rec.text) == ("u1", "Truce", BODY)
    (rec,) = read(path, columns={"text": "story_text"})
    assert rec.text == "Other text."


def test_gold_fields_travel_in_extra(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"id": "x", "text": BODY, "topics": ["ceasefire"], "stance": "neutral"}) + "\n",
                    encoding="utf-8")
    (rec,) = read(path)
    assert rec.extra == {"topics": ["ceasefire"], "stance": "neutral"}


def test_latin1_sample_page_is_redecoded_with_the_right_accents(repo_root):
    path = repo_root / "data" / "sample" / "pages" / "c92_mocimboa_da_praia_latin1.txt"
    (rec,) = read(path)
    assert rec.redecoded is not None
    for word in ("Mocímboa", "Conceição", "Fátima", "Begoña", "Muñoz"):
        assert word in rec.text or word in rec.title, word
    assert "\ufffd" not in rec.text


def test_latin1_page_is_redecoded(tmp_path):
    path = tmp_path / "page.txt"
    text = ("Senhora Conceição visits São Tomé\n"
            "Begoña Muñoz and João Gonçalves met in São Tomé on Monday, officials said. "
            "The café owners of Praça da Independência welcomed the délégation.\n")
    path.write_bytes(text.encode("latin-1"))
    (rec,) = read(path)
    assert rec.redecoded is not None
    assert rec.title == "Senhora Conceição visits São Tomé"
    assert "Begoña Muñoz and João Gonçalves" in rec.text
    assert "Praça da Independência" in rec.text


def test_utf8_page_is_not_redecoded(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text("Truce in Aden\nThe truce held, said Begoña Muñoz.\n", encoding="utf-8")
    (rec,) = read(path)
    assert rec.redecoded is None
    assert rec.text == "The truce held, said Begoña Muñoz."


def test_page_articles_share_a_page_id(repo_root, seeds_dir):
    items = read(seeds_dir / "000_482d08ce8c9b0da1.txt")
    assert all(isinstance(i, Record) for i in items)
    assert [i.position for i in items] == [0, 1, 2, 3]
    assert len({i.page_id for i in items}) == 1
    assert len({i.id for i in items}) == 4


def test_furniture_only_page_is_skipped(repo_root):
    path = repo_root / "data" / "sample" / "pages" / "c91_furniture_only.txt"
    (item,) = read(path)
    assert isinstance(item, Skip)
    assert item.reason.startswith("no article found on the page")


def test_html_page_gives_one_article(repo_root):
    path = repo_root / "data" / "sample" / "html" / "h02_zemio_truce_aid_trucks.html"
    (rec,) = read(path)
    assert isinstance(rec, Record)
    assert rec.title and len(rec.text) > 300
    assert "<" not in rec.text


def test_a_hard_wrapped_record_is_rejoined_into_paragraphs(tmp_path):
    wrapped = ("Protesters marched through the capital on\nSaturday to demand early elections, and\n"
               "police said the rally was peaceful.\n    Organisers put the crowd at 20,000, the\nlargest this year.")
    path = tmp_path / "wire.jsonl"
    path.write_text(json.dumps({"id": "w1", "text": wrapped}) + "\n", encoding="utf-8")
    (rec,) = read(path)
    assert rec.text == ("Protesters marched through the capital on Saturday to demand early elections, and police "
                        "said the rally was peaceful.\nOrganisers put the crowd at 20,000, the largest this year.")
    assert rec.title == rec.text.split("\n")[0][:120]  # the title falls back to the first paragraph, not a line
