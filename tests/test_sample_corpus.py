"""The bundled sample corpus meets the counts issue 4 asks for, counted from the files themselves."""

import json
from collections import Counter
from pathlib import Path

import pytest

from inference.pages import split_articles
from inference.readers import Record, read_inputs

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def labels():
    return [json.loads(x) for x in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def records():
    return [r for r in read_inputs([str(SAMPLE)], exclude=[SAMPLE / "labels.jsonl"]) if isinstance(r, Record)]


def test_label_counts(labels):
    topics = Counter(t for r in labels for t in r["topics"])
    stances = Counter(r["stance"] for r in labels)
    assert len(labels) >= 200
    for t in ("military_cooperation", "ceasefire", "travel_ban"):
        assert topics[t] >= 35, t
    for t in ("armed_conflict", "humanitarian_aid", "protest", "political_process"):
        assert topics[t] >= 25, t
    assert sum(not r["topics"] for r in labels) >= 40
    assert all(stances[s] >= 40 for s in ("supportive", "critical", "neutral")), stances
    assert sum(len(r["topics"]) >= 2 for r in labels) >= 50


def test_every_article_is_labeled_and_sized(labels, records):
    titles = {r["title"] for r in labels}
    assert len(titles) == len(labels), "titles are unique"
    read = {r.title for r in records}
    assert titles <= read, sorted(titles - read)[:5]
    for r in records:
        words = len(r.text.split())
        assert 20 <= words <= 700, (r.title, words)  # from wire briefs to long features


def test_mix_looks_like_real_news(labels, records):
    """Real news: most articles have no topic of the schema, neutral is the commonest stance, and wire briefs
    stand next to long features."""
    stances = Counter(r["stance"] for r in labels)
    assert sum(not r["topics"] for r in labels) >= 0.4 * len(labels)
    assert stances["neutral"] >= 0.5 * len(labels), stances
    words = [len(r.text.split()) for r in records]
    assert sum(n <= 80 for n in words) >= 70, "wire briefs"
    assert sum(n >= 400 for n in words) >= 10, "long features"


def test_shapes(records):
    pages = sorted((SAMPLE / "pages").glob("*.txt"))
    multi = [p for p in pages if len(split_articles(p.read_text(encoding="utf-8", errors="replace"))) > 1]
    assert len(multi) >= 25
    assert len(list((SAMPLE / "html").glob("*.html"))) >= 3
    assert (SAMPLE / "feeds" / "wire_feed.jsonl").is_file() and (SAMPLE / "feeds" / "portal_export.csv").is_file()
    assert (SAMPLE / "pages" / "c90_empty.txt").stat().st_size == 0
    assert any(r.redecoded for r in records), "a latin-1 page is there"
    lines = (SAMPLE / "feeds" / "wire_feed.jsonl").read_text(encoding="utf-8").splitlines()
    bad = 0
    for line in lines:
        try:
            json.loads(line)
        except json.JSONDecodeError:
            bad += 1
    assert bad == 1, "one truncated feed line"
    near = [r for r in json.loads("[" + ",".join(
        x for x in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()) + "]")
            if "near-duplicate" in r.get("note", "")]
    assert len({r["note"] for r in near}) >= 10, "at least 10 stories rewritten by other outlets"
