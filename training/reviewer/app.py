"""The review page's HTTP app (FastAPI): the page, its script and a small JSON API over a ``ReviewSession``.

- ``GET /`` the page (``static/review.html``, the session's token in a ``<meta>``), ``GET /static/...``.
- ``GET /api/state``: labels, model, annotator, progress. ``GET /api/next?mode=teach|random|topic&topic=T``:
  the next article's view (``{"article": null}`` when none is left). ``GET /api/article/{id}``: one view.
  ``GET /api/history``: the decisions so far, for going back.
- ``POST /api/decision`` ``{"id", "topics", "stance", "replace"}`` and ``POST /api/skip`` ``{"id"}``: refused
  with 403 without the ``X-Review-Token`` header holding the session's token; 409 when the article already has a
  decision (another tab) and ``replace`` is not set; 422 for an unknown label; 404 for an unknown id.

Every response carries a Content-Security-Policy that allows only this server's own script and style (no
inline script, no ``eval``), so text that got into an article from a scraped page cannot run even if it were
ever put in as HTML (the page puts it in as text only). A request whose ``Host`` is not this machine's is refused
(a web page elsewhere cannot reach the API by rebinding its own name to 127.0.0.1).
"""

# no "from __future__ import annotations": FastAPI reads the handlers' annotations (Request) at run time
import json
import logging
import secrets
from pathlib import Path

from inference.http_api import ApiError
from inference.serve import json_errors, read_body

from .session import ReviewError, ReviewSession

log = logging.getLogger("newstag.review")
STATIC = Path(__file__).resolve().parent / "static"
TOKEN_HEADER = "x-review-token"
MAX_BODY = 64_000
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
           "x-frame-options": "DENY", "cache-control": "no-store"}
LOCAL_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def create_review_app(session: ReviewSession, token: str | None = None, host: str = "127.0.0.1"):
    """The FastAPI app of the review page over ``session``; ``token`` (default: a fresh random one, kept as
    ``app.state.token``) guards the requests that change the gold file."""
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from starlette.concurrency import run_in_threadpool

    token = token or secrets.token_urlsafe(32)
    allowed = LOCAL_NAMES | {host.lower(), f"[{host.lower()}]"}
    app = FastAPI(title="newstag review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.token, app.state.session = token, session
    json_errors(app, log)
    page = (STATIC / "review.html").read_text(encoding="utf-8").replace("{{TOKEN}}", token)
    static = {name: (STATIC / name).read_bytes() for name in ("review.js", "review.css")}
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if host not in ("0.0.0.0", "::") and _host_name(request.headers.get("host", "")) not in allowed:
            response = JSONResponse({"error": "unknown Host; open the page at the address newstag-review printed"},
                                    status_code=400)
        else:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    @app.exception_handler(ReviewError)
    async def review_error(_request, err: ReviewError):
        return JSONResponse({"error": err.message, **err.extra}, status_code=err.status)

    def check_token(request: Request) -> None:
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            raise ApiError(403, "missing or wrong X-Review-Token header; reload the page to get the current token")

    async def body_of(request: Request) -> dict:
        raw = await read_body(request, MAX_BODY)
        try:
            data = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise ApiError(400, "the body is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ApiError(422, "the body must be a JSON object with the article's 'id' (a string)")
        return data

    @app.get("/")
    def index():
        return HTMLResponse(page)

    @app.get("/static/{name}")
    def asset(name: str):
        if name not in static:
            raise ApiError(404, f"no static file {name!r}")
        return Response(static[name], media_type=types[Path(name).suffix])

    @app.get("/api/state")
    def state():
        schema = session.schema
        return {"topics": [{"name": t.name, "description": t.description} for t in schema.topics],
                "stances": [{"name": s.name, "description": s.description} for s in schema.stances],
                "default_stance": schema.default_stance, "annotator": session.annotator, "model": session.model,
                "gold": str(session.gold.path), "next_commands": session.next_commands, "modes": ["teach", "random", "topic"], "progress": session.progress()}

    @app.get("/api/next")
    def next_article(mode: str = "teach", topic: str | None = None, client: str = ""):
        return {"article": session.next_view(client, mode, topic), "progress": session.progress()}

    @app.get("/api/article/{article_id:path}")
    def article(article_id: str):
        return {"article": session.view_of(article_id), "progress": session.progress()}

    @app.get("/api/history")
    def history():
        return {"decisions": session.history()}

    @app.post("/api/decision")
    async def decision(request: Request):
        check_token(request)
        data = await body_of(request)
        topics, stance = data.get("topics", []), data.get("stance")
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics) or not isinstance(stance, str):
            raise ApiError(422, "'topics' must be a list of topic names and 'stance' a stance name")
        record = await run_in_threadpool(session.decide, data["id"], topics, stance, str(data.get("client", "")),
                                         bool(data.get("replace", False)))  # fsync: off the event loop
        return {"saved": record, "progress": session.progress()}

    @app.post("/api/skip")
    async def skip(request: Request):
        check_token(request)
        data = await body_of(request)
        session.skip(data["id"])
        return {"skipped": data["id"]}

    return app
