"""The review page's API: a real HTTP client against a server the test starts on 127.0.0.1."""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the review extra (pip install 'newstag[review]') is absent")
pytest.importorskip("uvicorn", reason="the review extra (pip install 'newstag[review]') is absent")
httpx = pytest.importorskip("httpx", reason="httpx (the dev extra) is absent")

from conftest import LABELS, REVIEW_ARTICLES, SCRIPT_TITLE  # noqa: E402

from inference.schema import load_schema  # noqa: E402
from inference.serve import ServerThread  # noqa: E402
from training.builder.gold import read_gold  # noqa: E402
from training.reviewer.app import create_review_app  # noqa: E402
from training.reviewer.session import ReviewSession  # noqa: E402

TOKEN = "test-token"


@pytest.fixture()
def served(review_dataset, tagger, tmp_path):
    """A fresh gold file and a server over the review dataset with the tiny model; yields (client, session)."""
    session = ReviewSession.open(review_dataset, tmp_path / "gold.jsonl", tagger, model_id="m1", annotator="ana")
    with ServerThread(create_review_app(session, token=TOKEN)) as url:
        with httpx.Client(base_url=url, timeout=60, headers={"x-review-token": TOKEN}) as client:
            yield client, session


def gold_lines(session):
    return [json.loads(x) for x in session.gold.path.read_text(encoding="utf-8").splitlines()] \
        if session.gold.path.exists() else []


def test_the_page_embeds_the_token_and_every_response_forbids_inline_script(served):
    client, _ = served
    page = client.get("/")
    assert page.status_code == 200 and f'content="{TOKEN}"' in page.text
    assert '<script src="/static/review.js" defer></script>' in page.text and "<script>" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe" not in csp
    js = client.get("/static/review.js")
    assert js.headers["content-type"].startswith("text/javascript") and "innerHTML" not in js.text.replace(
        "never innerHTML", "")
    assert client.get("/api/state").headers["content-security-policy"] == csp
    assert client.get("/static/../app.py").status_code == 404


def test_a_view_holds_text_scores_votes_and_evidence(served, tagger):
    client, _ = served
    state = client.get("/api/state").json()
    assert [t["name"] for t in state["topics"]] == tagger.topics and state["annotator"] == "ana"
    assert state["model"] == {"name": tagger.name, "version": tagger.version, "id": "m1"}
    build, train = state["next_commands"]  # the review dataset was built without a gold file of its own
    assert build.startswith("newstag-build ") and f"--gold {state['gold']}" in build and "-reviewed" in build
    assert train.startswith("newstag-train --data ") and build.split(" -o ")[1].split()[0] in train
    art = client.get("/api/next").json()["article"]
    assert {t["name"] for t in art["topics"]} == set(tagger.topics)
    assert all(0 <= t["score"] <= 1 and t["evidence"] for t in art["topics"])  # every topic has its sentence
    assert set(art["stance"]["probs"]) == set(tagger.stances)
    text = " ".join(s["text"] for p in art["paragraphs"] for s in p)
    assert text == " ".join(dict((i, x) for i, _, x in REVIEW_ARTICLES)[art["id"]].split())


def test_rule_matches_are_marked_on_their_sentences(served):
    client, session = served
    view = client.get("/api/article/r01").json()["article"]
    marks = {(m["topic"], m["by"]) for p in view["paragraphs"] for s in p for m in s["marks"]}
    ceasefire = next(t for t in view["topics"] if t["name"] == "ceasefire")
    assert ceasefire["rules"] and ceasefire["voters"] and ("ceasefire", "rule") in marks
    truce = next(s for p in view["paragraphs"] for s in p if "truce" in s["text"])
    assert any(m["topic"] == "ceasefire" and m["by"] == "rule" for m in truce["marks"])


def test_a_decision_is_appended_at_once_with_its_provenance_and_the_builder_reads_it(served, tagger):
    client, session = served
    art = client.get("/api/next", params={"client": "a"}).json()["article"]
    r = client.post("/api/decision", json={"id": art["id"], "topics": ["protest", "ceasefire"], "stance": "critical"})
    assert r.status_code == 200 and r.json()["progress"]["reviewed"] == 1
    (line,) = gold_lines(session)
    assert line["id"] == art["id"] and line["title"] == art["title"] and line["annotator"] == "ana"
    assert line["topics"] == ["ceasefire", "protest"] and line["stance"] == "critical"  # schema order
    assert line["model"] == tagger.name and line["model_version"] == tagger.version and line["model_id"] == "m1"
    assert line["time"].endswith("+00:00") and "model_topics" in line and "rule_topics" in line
    gold = read_gold(session.gold.path, load_schema(LABELS))
    assert gold.by_id[art["id"]].topics == ("ceasefire", "protest")
    assert client.get("/api/next", params={"client": "a"}).json()["article"]["id"] != art["id"]


def test_requests_that_change_the_gold_file_need_the_token(served):
    client, session = served
    body = {"id": "r01", "topics": [], "stance": "neutral"}
    for headers in ({"x-review-token": ""}, {"x-review-token": "guess"}):
        r = client.post("/api/decision", json=body, headers=headers)
        assert r.status_code == 403 and "X-Review-Token" in r.json()["error"]
        assert client.post("/api/skip", json={"id": "r01"}, headers=headers).status_code == 403
    assert gold_lines(session) == []


def test_a_second_decision_gets_409_and_going_back_replaces_it(served):
    client, session = served
    assert client.post("/api/decision", json={"id": "r02", "topics": [], "stance": "neutral"}).status_code == 200
    again = client.post("/api/decision", json={"id": "r02", "topics": ["protest"], "stance": "neutral"})
    assert again.status_code == 409 and again.json()["decision"]["topics"] == []
    fixed = client.post("/api/decision", json={"id": "r02", "topics": ["military_cooperation"], "stance": "supportive",
                                               "replace": True})
    assert fixed.status_code == 200
    assert [(x["id"], x["topics"]) for x in gold_lines(session)] == [("r02", ["military_cooperation"])]
    view = client.get("/api/article/r02").json()["article"]
    assert view["decision"] == {"topics": ["military_cooperation"], "stance": "supportive"}
    assert client.get("/api/history").json()["decisions"] == [{"id": "r02", "title": "Defence ministers sign training pact"}]


def test_two_tabs_get_different_articles_and_racing_on_one_writes_it_once(served):
    client, session = served
    a = client.get("/api/next", params={"client": "tab-a"}).json()["article"]["id"]
    b = client.get("/api/next", params={"client": "tab-b"}).json()["article"]["id"]
    assert a != b
    body = {"id": "r03", "topics": ["protest"], "stance": "neutral"}
    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(lambda _: client.post("/api/decision", json=body).status_code, range(6)))
    assert codes == [200] + [409] * 5
    assert [x["id"] for x in gold_lines(session)] == ["r03"]


@pytest.mark.parametrize("body, status, words", [
    ({"id": "r04", "topics": ["nope"], "stance": "neutral"}, 422, "unknown or repeated topic"),
    ({"id": "r04", "topics": [], "stance": "angry"}, 422, "unknown stance"),
    ({"id": "r04", "topics": "protest", "stance": "neutral"}, 422, "must be a list"),
    ({"id": "zz", "topics": [], "stance": "neutral"}, 404, "no unlabeled article"),
    ({"topics": []}, 422, "'id'"),
])
def test_bad_decisions_get_one_clear_error_and_write_nothing(served, body, status, words):
    client, session = served
    r = client.post("/api/decision", json=body)
    assert r.status_code == status and words in r.json()["error"]
    assert gold_lines(session) == []


def test_bad_json_a_foreign_host_and_a_bad_mode_are_refused(served):
    client, _ = served
    assert client.post("/api/decision", content=b"{nope", headers={"content-type": "application/json"}).status_code == 400
    r = client.get("/api/state", headers={"host": "evil.example:8765"})
    assert r.status_code == 400 and "Host" in r.json()["error"]
    assert client.get("/api/next", params={"mode": "sideways"}).status_code == 422
    assert client.get("/api/next", params={"mode": "topic", "topic": "nope"}).status_code == 422
    assert client.get("/api/next", params={"mode": "topic", "topic": "travel_ban"}).status_code == 200


def test_reopening_resumes_without_the_decided_articles(review_dataset, tagger, tmp_path):
    gold = tmp_path / "gold.jsonl"
    first = ReviewSession.open(review_dataset, gold, tagger, model_id="m1")
    done = []
    for _ in range(3):
        view = first.next_view("t")
        first.decide(view["id"], [], "neutral", client="t")
        done.append(view["id"])
    again = ReviewSession.open(review_dataset, gold, tagger, model_id="m1")
    assert again.progress()["reviewed"] == 3
    seen = set()
    while (view := again.next_view("t")) is not None:
        seen.add(view["id"])
        again.skip(view["id"])
        again.decide(view["id"], [], "neutral")
    assert not seen & set(done) and len(seen) + 3 <= len(REVIEW_ARTICLES)


def test_the_cache_brings_back_the_encoder_vectors_and_the_same_queue(review_dataset, tagger, tmp_path, monkeypatch):
    from training.reviewer import session as session_module

    fresh = ReviewSession.open(review_dataset, tmp_path / "a.jsonl", tagger, model_id="m-cache")
    monkeypatch.setattr(session_module, "pool_signals", lambda *a, **k: pytest.fail("scored again, cache unread"))
    cached = ReviewSession.open(review_dataset, tmp_path / "b.jsonl", tagger, model_id="m-cache")
    vectors = fresh.signals.embeddings
    assert vectors.shape == (len(fresh.rows), tagger.model.encoder.config.hidden_size)
    assert np.array_equal(cached.signals.embeddings, vectors.astype(np.float32))
    for session in (fresh, cached):
        first = session.next_view("t")["id"]
        session.decide(first, [], "neutral", client="t")
    assert fresh.queue.ranked() == cached.queue.ranked()
    assert fresh.queue.novelty().min() < 1  # the decision moved it


def test_without_a_model_the_rules_rank_and_suggest(review_dataset, tmp_path):
    session = ReviewSession.open(review_dataset, tmp_path / "gold.jsonl", annotator="ana", cache=False)
    view = session.view_of("r04")
    assert view["suggested"]["topics"] == ["travel_ban"] and view["stance"]["probs"] is None
    assert all(t["score"] is None for t in view["topics"])
    rec = session.decide("r04", ["travel_ban"], "neutral")
    assert rec["model"] is None and "model_topics" not in rec
    assert session.progress()["agreement"] == {"rule": {"decisions": 1, "topics": 1.0, "stance": 1.0}}


def test_the_script_article_travels_as_plain_text(served):
    client, _ = served
    view = client.get("/api/article/r09").json()["article"]
    assert view["title"] == SCRIPT_TITLE
    assert "<script>window.__pwned = 3</script>" in " ".join(s["text"] for p in view["paragraphs"] for s in p)


def test_the_command_refuses_bad_input_with_one_line(tmp_path, capsys):
    from training.review import main

    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("newstag-review: error: ") and "not a newstag dataset folder" in err[0]
    assert main([str(tmp_path), "--near", "0"]) == 2
    assert "--near 0.0 must be above 0" in capsys.readouterr().err
