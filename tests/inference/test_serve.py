"""newstag-serve: a real HTTP client against a server the test starts on 127.0.0.1 (the serve extra)."""

import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("fastapi", reason="the serve extra (pip install 'newstag[serve]') is absent")
pytest.importorskip("uvicorn", reason="the serve extra (pip install 'newstag[serve]') is absent")
httpx = pytest.importorskip("httpx", reason="httpx (the dev extra) is absent")

from conftest import SAMPLE  # noqa: E402

from inference.http_api import Limits  # noqa: E402
from inference.serve import ServerThread, create_app  # noqa: E402

TEXTS = [f"Aid convoys reached {n} displaced families after clashes near the border, officials said."
         for n in ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "many")]


def _js(result) -> dict:
    """A TagResult as the server sends it (JSON: tuples become lists)."""
    return json.loads(json.dumps(result.to_dict()))


PAGE = next(p for p in sorted((SAMPLE / "pages").iterdir()) if p.suffix == ".txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def server(tagger):
    limits = Limits(max_body_bytes=200_000, max_articles=16, max_text_chars=50_000, max_batch=8, max_wait_ms=20)
    with ServerThread(create_app(tagger, limits, model_id="test-model")) as url:
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client


def test_health_and_model(server, tagger):
    assert server.get("/health").json()["status"] == "ok"
    info = server.get("/model").json()
    assert info["topics"] == tagger.topics and info["stances"] == tagger.stances
    assert set(info["thresholds"]) == set(tagger.topics) and info["version"] == tagger.version
    assert info["model_id"] == "test-model" and info["limits"]["max_articles"] == 16


def test_one_article_in_any_form_gives_the_taggers_result(server, tagger):
    want = _js(tagger.predict(("Truce holds", TEXTS[0])))
    assert server.post("/tag", json={"title": "Truce holds", "text": TEXTS[0]}).json() == {"result": want}
    plain = server.post("/tag", content=TEXTS[1].encode(), headers={"content-type": "text/plain"})
    assert plain.json()["result"] == _js(tagger.predict(TEXTS[1]))
    assert server.post("/tag", json=TEXTS[1]).json() == plain.json()


def test_a_list_and_a_raw_page_keep_their_shape(server, tagger):
    body = {"articles": [TEXTS[2], {"title": "T", "text": TEXTS[3]}, {"page": PAGE}], "evidence": False}
    got = server.post("/tag", json=body).json()["results"]
    assert got[0] == _js(tagger.predict(TEXTS[2], evidence=False))
    assert got[1] == _js(tagger.predict(("T", TEXTS[3]), evidence=False))
    assert got[2] == {"articles": [_js(r) for r in tagger.tag_page(PAGE, evidence=False)]}
    assert len(got[2]["articles"]) >= 2  # the sample page holds related stories


def test_thresholds_apply_to_their_request_only(server, tagger):
    topic = tagger.topics[0]
    low = server.post("/tag", json={"articles": [TEXTS[4]], "thresholds": {topic: 0.0}}).json()["results"][0]
    assert topic in [t["name"] for t in low["topics"]]
    assert server.post("/tag", json={"articles": [TEXTS[4]], "thresholds": {"nope": 0.1}}).status_code == 422


def test_concurrent_requests_are_batched_and_each_gets_its_own_results(server, tagger):
    before = server.get("/health").json()["batches"]
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda t: server.post("/tag", json={"text": t}).json()["result"], TEXTS))
    batches = server.get("/health").json()["batches"] - before
    want = [_js(r) for r in tagger.predict(TEXTS)]
    for g, w in zip(got, want):  # batch-mates change float rounding only
        assert [t["name"] for t in g["topics"]] == [t["name"] for t in w["topics"]] and g["stance"] == w["stance"]
        assert max(abs(g["topic_scores"][k] - w["topic_scores"][k]) for k in w["topic_scores"]) < 1e-3
    assert batches < len(TEXTS)  # some requests shared a batch


@pytest.mark.parametrize("body, status, limit", [
    (b"x" * 200_001, 413, "max_body_bytes"),
    (json.dumps(["a text"] * 17).encode(), 422, "max_articles"),
    (json.dumps({"text": "word " * 10_001}).encode(), 422, "max_text_chars"),
])
def test_limits_give_a_json_error_naming_the_limit(server, body, status, limit):
    r = server.post("/tag", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["limit"] == limit and isinstance(r.json()["max"], int) and r.json()["error"]


def test_a_page_counts_each_of_its_articles(server):
    r = server.post("/tag", json={"articles": [{"page": PAGE}] * 9})
    assert r.status_code == 422 and r.json()["limit"] == "max_articles"


@pytest.mark.parametrize("body, status, words", [
    (b'{"text": "unterminated', 400, "not valid JSON"),
    (b"[" * 100_000, 400, "not valid JSON"),  # nesting deep enough to break a recursive parser
    (b'\xff\xfe{"text"', 400, "not valid JSON"),
    (b'{"text": ""}', 422, "non-empty string"),
    (b'{"title": 3, "text": "x"}', 422, "title must be a string"),
    (b'{"articles": "no list"}', 422, "must be a list"),
    (b'{"articles": [], "color": "red"}', 422, "unknown field"),
    (b'{"articles": [{"body": "x"}]}', 422, "must be a string"),
    (b'{"articles": [], "evidence": "yes"}', 422, "'evidence' must be true or false"),
    (b"42", 422, "must be a string"),
])
def test_bad_requests_get_an_error_and_the_server_stays_up(server, body, status, words):
    r = server.post("/tag", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status and words in r.json()["error"]
    assert server.get("/health").status_code == 200


def test_unknown_routes_and_methods_answer_json(server):
    assert server.get("/nope").json() == {"error": "Not Found"}
    assert server.get("/tag").status_code == 405


def test_the_server_s_connections_send_without_waiting_for_acks():
    # without TCP_NODELAY a response written as headers then body waits out the client's delayed ACK (~40 ms)
    async def ok(scope, receive, send):
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

    thread = ServerThread(ok)
    with thread as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/").text == "ok"
        (conn,) = thread.server.server_state.connections  # the client's one kept-alive connection
        sock = conn.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_an_empty_list_gives_an_empty_list(server):
    assert server.post("/tag", json=[]).json() == {"results": []}


def test_a_tagging_failure_fails_its_request_only(tagger, monkeypatch):
    app = create_app(tagger, Limits(max_wait_ms=50))
    real = tagger.predict

    def flaky(arts, **kw):
        if any("poison" in text for _, text in arts):
            raise RuntimeError("boom")
        return real(arts, **kw)

    with ServerThread(app) as url, httpx.Client(base_url=url, timeout=120) as client:
        monkeypatch.setattr(tagger, "predict", flaky)
        with ThreadPoolExecutor(2) as pool:
            bad, good = pool.map(lambda t: client.post("/tag", json={"text": t}), ["poison pill", TEXTS[5]])
        assert bad.status_code == 500 and "tagging failed" in bad.json()["error"]
        assert good.status_code == 200 and good.json()["result"]["stance"] in tagger.stances
        assert client.get("/health").status_code == 200


def test_the_command_refuses_bad_limits(capsys, trained_model):
    from inference.serve import main

    assert main([str(trained_model), "--max-articles", "0"]) == 2
    assert "--max-articles must be at least 1" in capsys.readouterr().err
