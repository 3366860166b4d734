"""The HTTP API's requests and responses: limits, errors, a ``POST /tag`` body to articles and results back.

Used by ``newstag-serve`` (``inference/serve.py``); plain Python, so it is tested without a server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import NewstagError


@dataclass(frozen=True)
class Limits:
    """What one request may hold and how requests are batched."""

    max_body_bytes: int = 1_000_000
    max_articles: int = 64  # articles per request, the articles of pages included
    max_text_chars: int = 100_000  # characters of one article's text or one page
    max_batch: int = 32  # articles tagged in one call, from as many requests as fit
    max_wait_ms: float = 10.0  # how long the first request of a batch waits for others
    max_queued: int = 1024  # articles waiting; more gets 503 (busy), not an ever longer wait


class ApiError(Exception):
    def __init__(self, status: int, message: str, limit: str | None = None, maximum: int | None = None):
        super().__init__(message)
        self.status, self.message, self.limit, self.maximum = status, message, limit, maximum

    def body(self) -> dict:
        out = {"error": self.message}
        if self.limit:
            out.update(limit=self.limit, max=self.maximum)
        return out


@dataclass
class Parsed:
    """A request's articles, how to put their results back (one per input; a page holds several), options."""

    articles: list[tuple[str | None, str]]
    shape: list[int]  # per input: -1 a plain article, k >= 0 a page of k articles
    single: bool
    thresholds: dict[str, float] | None
    evidence: bool


def parse_request(body: bytes, content_type: str, tagger, limits: Limits) -> Parsed:
    """Check a ``POST /tag`` body and turn it into articles.

    Raises:
        ApiError: 400 for a body that is not JSON (or UTF-8 text), 422 for a shape or limit it breaks.
    """
    if content_type.split(";")[0].strip().lower() == "text/plain":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "a text/plain body must be UTF-8") from None
    else:
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
            detail = err.msg if isinstance(err, json.JSONDecodeError) else type(err).__name__
            raise ApiError(400, f"the body is not valid JSON ({detail})") from None
    options: dict = {}
    if isinstance(data, dict) and "articles" in data:
        options = {k: v for k, v in data.items() if k != "articles"}
        unknown = set(options) - {"thresholds", "evidence"}
        if unknown:
            raise ApiError(422, f"unknown field(s) {', '.join(sorted(unknown))}; a body with 'articles' may also "
                                "hold 'thresholds' and 'evidence'")
        items, single = data["articles"], False
        if not isinstance(items, list):
            raise ApiError(422, "'articles' must be a list")
    elif isinstance(data, list):
        items, single = data, False
    else:
        items, single = [data], True
    if len(items) > limits.max_articles:
        raise ApiError(422, f"{len(items)} articles in one request; at most {limits.max_articles}",
                       "max_articles", limits.max_articles)
    articles, shape = [], []
    for i, item in enumerate(items):
        where = "the article" if single else f"articles[{i}]"
        if isinstance(item, dict) and "page" in item:
            page = _text(item["page"], f"{where}.page", limits)
            arts = _split_page(page, tagger)
            articles.extend(arts)
            shape.append(len(arts))
        else:
            articles.append(_article(item, where, limits))
            shape.append(-1)
        if len(articles) > limits.max_articles:
            raise ApiError(422, f"the request holds more than {limits.max_articles} articles (pages count each "
                                "article they hold)", "max_articles", limits.max_articles)
    thresholds = options.get("thresholds")
    if thresholds is not None:
        if not isinstance(thresholds, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 1.0 for v in thresholds.values()):
            raise ApiError(422, "'thresholds' must map topic names to numbers between 0 and 1")
        try:
            tagger.resolve_thresholds(thresholds)
        except NewstagError as err:
            raise ApiError(422, str(err)) from None
    evidence = options.get("evidence", True)
    if not isinstance(evidence, bool):
        raise ApiError(422, "'evidence' must be true or false")
    return Parsed(articles, shape, single, thresholds or None, evidence)


def _text(value, where: str, limits: Limits) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, f"{where} must be a non-empty string")
    if len(value) > limits.max_text_chars:
        raise ApiError(422, f"{where} holds {len(value)} characters; at most {limits.max_text_chars}",
                       "max_text_chars", limits.max_text_chars)
    return value


def _article(item, where: str, limits: Limits) -> tuple[str | None, str]:
    if isinstance(item, str):
        return None, _text(item, where, limits)
    if not isinstance(item, dict) or "text" not in item:
        raise ApiError(422, f"{where} must be a string, {{\"title\", \"text\"}} or {{\"page\"}}")
    extra = set(item) - {"title", "text", "id"}
    if extra:
        raise ApiError(422, f"{where} has unknown field(s) {', '.join(sorted(extra))}")
    title = item.get("title")
    if title is not None and not isinstance(title, str):
        raise ApiError(422, f"{where}.title must be a string")
    if title is not None and len(title) > limits.max_text_chars:
        raise ApiError(422, f"{where}.title is too long", "max_text_chars", limits.max_text_chars)
    return title, _text(item["text"], f"{where}.text", limits)


def _split_page(page: str, tagger) -> list[tuple[str | None, str]]:
    """A raw page's articles as ``Tagger.tag_page`` reads them."""
    from .boilerplate import strip_boilerplate
    from .pages import split_articles

    return [(a.title, strip_boilerplate(a.text, tagger.boilerplate)[0]) for a in split_articles(page)]


def shape_results(parsed: Parsed, results: list) -> dict:
    """Put a request's flat results back into its inputs' shape."""
    flat = iter(r.to_dict() for r in results)
    items = [next(flat) if k < 0 else {"articles": [next(flat) for _ in range(k)]} for k in parsed.shape]
    return {"result": items[0]} if parsed.single else {"results": items}
