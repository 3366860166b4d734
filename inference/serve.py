"""Serve a tagger over HTTP: ``newstag-serve MODEL_DIR [--host 127.0.0.1] [--port 8000]``.

Example:
    newstag-serve runs/demo/model --port 8000
    curl -s localhost:8000/tag -d '{"title": "Truce holds", "text": "A truce agreed on Sunday held ..."}'

A JSON API (FastAPI on uvicorn; needs the ``serve`` extra: ``pip install 'newstag[serve]'``):

- ``POST /tag``: one article or a list. An article is a string (plain text), ``{"title", "text"}`` or
  ``{"page": RAW_PAGE}`` (a scraped page, split into its articles as the builder does). A body of
  ``{"articles": [...], "thresholds": {TOPIC: P}, "evidence": false}`` sets options; a ``text/plain`` body is one
  article. One article in gives ``{"result": TAGS}``, a list gives ``{"results": [...]}`` in input order; a page
  gives ``{"articles": [TAGS, ...]}`` in its place.
- ``GET /health`` and ``GET /model`` (labels, thresholds, version, limits).

The articles of concurrent requests are tagged together: a request waits at most ``--max-wait-ms`` for others
to fill a batch of ``--max-batch`` articles, and each gets its own results. A body over ``--max-body-bytes`` gets
413; more than ``--max-articles`` articles, or an article over ``--max-text-chars``, gets 422; a body that is not
JSON gets 400; each error is ``{"error": ..., "limit": NAME, "max": N}`` (``limit`` where a limit was hit). It binds
to 127.0.0.1 unless told otherwise; it has no authentication, so put it behind one to expose it.
"""

# no "from __future__ import annotations": FastAPI reads the handlers' annotations (Request) at run time
import argparse
import asyncio
import contextlib
import json
import logging
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from .errors import NewstagError, cli_errors
from .http_api import ApiError, Limits, Parsed, parse_request, shape_results

log = logging.getLogger("newstag.serve")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# ---- batching -----------------------------------------------------------------------------------------------
@dataclass
class _Job:
    parsed: Parsed
    future: asyncio.Future


class Batcher:
    """Tags the articles of concurrent requests together, in one worker thread, and hands each request its own
    results. Requests with other options (thresholds, evidence) go in other calls of the same batch."""

    def __init__(self, tagger, limits: Limits):
        self.tagger, self.limits = tagger, limits
        self.queued = 0
        self.batches = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="newstag-tag")
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._pool.shutdown(wait=True)

    async def tag(self, parsed: Parsed) -> list:
        n = len(parsed.articles)
        if n == 0:
            return []
        if self.queued + n > self.limits.max_queued:
            raise ApiError(503, f"the server is busy ({self.queued} articles waiting); retry shortly",
                           "max_queued", self.limits.max_queued)
        self.queued += n
        job = _Job(parsed, asyncio.get_running_loop().create_future())
        await self._queue.put(job)
        try:
            return await job.future
        finally:
            self.queued -= n

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            size = len(jobs[0].parsed.articles)
            deadline = loop.time() + self.limits.max_wait_ms / 1000
            while size < self.limits.max_batch:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    job = await asyncio.wait_for(self._queue.get(), timeout)
                except asyncio.TimeoutError:
                    break
                jobs.append(job)
                size += len(job.parsed.articles)
            self.batches += 1
            groups: dict[str, list[_Job]] = {}
            for job in jobs:
                key = json.dumps([job.parsed.thresholds, job.parsed.evidence], sort_keys=True)
                groups.setdefault(key, []).append(job)
            for group in groups.values():
                await self._tag_group(loop, group)

    async def _tag_group(self, loop, group: list[_Job]) -> None:
        live = [j for j in group if not j.future.done()]  # a client that went away needs no results
        if not live:
            return
        try:
            results = await loop.run_in_executor(self._pool, self._predict, live)
        except Exception:  # noqa: BLE001 - a request that breaks the batch must fail alone, below
            if len(live) == 1:
                log.exception("tagging failed")
                if not live[0].future.done():
                    live[0].future.set_exception(ApiError(500, "tagging failed; see the server log"))
                return
            for job in live:
                await self._tag_group(loop, [job])
            return
        start = 0
        for job in live:
            n = len(job.parsed.articles)
            if not job.future.done():
                job.future.set_result(results[start: start + n])
            start += n

    def _predict(self, jobs: list[_Job]) -> list:
        arts = [a for job in jobs for a in job.parsed.articles]
        first = jobs[0].parsed
        return self.tagger.predict(arts, thresholds=first.thresholds, evidence=first.evidence,
                                   batch_size=self.limits.max_batch)


# ---- the app ------------------------------------------------------------------------------------------------
def model_info(tagger, limits: Limits, model_id: str | None = None) -> dict:
    from .onnx_model import OnnxTaggerModel  # light: onnxruntime itself is imported only to run a graph

    backend = "onnx" if isinstance(tagger.model, OnnxTaggerModel) else "torch"
    return {"name": tagger.name, "version": tagger.version, "model_id": model_id, "backend": backend,
            "dtype": str(tagger.dtype).removeprefix("torch.") if tagger.dtype else "float32",
            "topics": tagger.topics, "stances": tagger.stances,
            "thresholds": {t: round(float(p), 4) for t, p in zip(tagger.topics, tagger.thresholds)},
            "max_length": tagger.max_length, "stride": tagger.stride, "limits": asdict(limits)}


async def read_body(request, limit: int) -> bytes:
    """A request's body, refused with 413 past ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body has {declared} bytes; at most {limit}", "max_body_bytes", limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiError(413, f"the body is over {limit} bytes", "max_body_bytes", limit)
    return bytes(body)


def json_errors(app, logger: logging.Logger) -> None:
    """Answer every error of ``app`` as ``{"error": ...}`` JSON: an ``ApiError`` with its status (and limit), an
    HTTP error (404, 405) with its own, anything else as 500 with the traceback in ``logger`` only."""
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    @app.exception_handler(ApiError)
    async def api_error(_request, err: ApiError):
        return JSONResponse(err.body(), status_code=err.status)

    @app.exception_handler(HTTPException)
    async def http_error(_request, err: HTTPException):
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code, headers=err.headers)

    @app.exception_handler(Exception)
    async def internal_error(_request, err: Exception):
        logger.exception("request failed")
        return JSONResponse({"error": f"internal error ({type(err).__name__}); see the server log"}, status_code=500)


def note_if_exposed(prog: str, host: str, what: str) -> None:
    """One line on stderr when ``host`` is not this machine only."""
    if host not in LOOPBACK:
        print(f"{prog}: note: binding to {host} opens {what} to the network", file=sys.stderr)


def create_app(tagger, limits: Limits | None = None, model_id: str | None = None):
    """The FastAPI app serving ``tagger`` (used by ``newstag-serve`` and the tests)."""
    from fastapi import FastAPI, Request

    limits = limits or Limits()
    batcher = Batcher(tagger, limits)
    info = model_info(tagger, limits, model_id)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="newstag", version=str(info["version"]), lifespan=lifespan,
                  description="Topic and stance tags of news articles.")
    app.state.batcher = batcher

    json_errors(app, log)

    @app.get("/health")
    async def health():
        return {"status": "ok", "queued_articles": batcher.queued, "batches": batcher.batches}

    @app.get("/model")
    async def model():
        return info

    @app.post("/tag")
    async def tag(request: Request):
        body = await read_body(request, limits.max_body_bytes)
        parsed = parse_request(body, request.headers.get("content-type", "application/json"), tagger, limits)
        results = await batcher.tag(parsed)
        return shape_results(parsed, results)

    return app


class ServerThread:
    """Run an app with uvicorn in a background thread on a socket of our own (port 0: any free port).

    Example:
        >>> with ServerThread(create_app(tagger)) as url:
        ...     httpx.post(f"{url}/tag", json={"text": "..."})
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, **config):
        import uvicorn

        # proto IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it a response written as headers then body waits out the client's delayed ACK (40 ms a request)
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM,
                                  socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.host, self.port = host, self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.time() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def parse_args(argv=None):
    d = Limits()
    p = argparse.ArgumentParser(prog="newstag-serve", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example: newstag-serve runs/demo/model --port 8000")
    p.add_argument("model", help="model folder written by newstag-train (or newstag-export)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: GPU when available)")
    p.add_argument("--bf16", action="store_true", help="bf16 weights on CPU (as newstag-tag --bf16)")
    p.add_argument("--int8", action="store_true", help="CPU dynamic int8 quantization (as newstag-tag --int8)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help=f"articles per tagging call (default {d.max_batch})")
    p.add_argument("--max-wait-ms", type=float, default=d.max_wait_ms,
                   help=f"how long a request waits for others to batch with (default {d.max_wait_ms})")
    p.add_argument("--max-body-bytes", type=int, default=d.max_body_bytes, help=f"default {d.max_body_bytes}")
    p.add_argument("--max-articles", type=int, default=d.max_articles, help=f"per request (default {d.max_articles})")
    p.add_argument("--max-text-chars", type=int, default=d.max_text_chars, help=f"per article (default {d.max_text_chars})")
    p.add_argument("--max-queued", type=int, default=d.max_queued,
                   help=f"articles waiting before new requests get 503 (default {d.max_queued})")
    return p.parse_args(argv)


@cli_errors("newstag-serve")
def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import uvicorn
    except ImportError:
        raise NewstagError("newstag-serve needs the serve extra; pip install 'newstag[serve]'") from None
    import torch

    from . import model_folder
    from .tagger import Tagger

    if args.int8 and args.bf16:
        raise NewstagError("--int8 and --bf16 exclude each other; pick one")
    for name in ("max_batch", "max_body_bytes", "max_articles", "max_text_chars", "max_queued"):
        if getattr(args, name) < 1:
            raise NewstagError(f"--{name.replace('_', '-')} must be at least 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    tagger = Tagger.from_pretrained(args.model, device="cpu" if args.int8 else args.device,
                                    quantize="int8" if args.int8 else None, half=True if args.bf16 else None)
    limits = Limits(max_body_bytes=args.max_body_bytes, max_articles=args.max_articles,
                    max_text_chars=args.max_text_chars, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                    max_queued=args.max_queued)
    note_if_exposed("newstag-serve", args.host, "the API, without authentication,")
    app = create_app(tagger, limits, model_folder.model_id(args.model))
    print(f"newstag-serve: {tagger.name}@{tagger.version} on http://{args.host}:{args.port} "
          f"(POST /tag, GET /health, GET /model, docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
